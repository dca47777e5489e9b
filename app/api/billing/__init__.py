"""Billing settings of a reseller: tax rates, and billing runs."""

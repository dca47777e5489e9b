"""Invoices, pro-forma invoices, credit notes, their PDFs, and customers' statements of account."""

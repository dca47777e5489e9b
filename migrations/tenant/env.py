"""Alembic environment of a tenant schema; driven by `migrations.runner` once per tenant."""

from migrations.runner import run_environment

run_environment("tenant")

"""Alembic environment of the `public` schema; driven by `migrations.runner` (``backhaul db upgrade``)."""

from migrations.runner import run_environment

run_environment("public")

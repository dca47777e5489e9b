"""WSGI entry point for any WSGI server: `gunicorn wsgi:app` (``backhaul run`` uses the same factory)."""

from app import create_app

app = create_app()

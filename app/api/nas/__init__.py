"""RADIUS NAS clients: every one from the console, a reseller's own from its reseller API."""

"""Dramatiq on Redis: the broker, the tenant middleware, the actors and the scheduler."""

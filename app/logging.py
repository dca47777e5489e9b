"""Structured logs (structlog over the standard library), one line per event."""

import logging
import sys

import structlog


def configure_logging(level: str = "INFO") -> None:
    if getattr(configure_logging, "_done", False):
        return
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    # Alembic announces each of its plugins at INFO whenever a schema is migrated or compared: noise
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    configure_logging._done = True

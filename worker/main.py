"""What the `dramatiq` command loads: the broker, then every actor module."""

from worker.broker import broker, database  # noqa: F401  (the broker must exist before the actors)

# isort: split
from worker.actors import email  # noqa: F401

database()

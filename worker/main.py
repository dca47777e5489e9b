"""What the `dramatiq` command loads: the broker, then every actor module."""

from worker.broker import broker, database  # noqa: F401  (the broker must exist before the actors)

# isort: split
from worker.actors import billing, email, payments  # noqa: F401

# isort: split
from worker import scheduler  # noqa: F401  (the periodic tick; `periodiq worker.scheduler` sends it)
from worker.actors import daily, dunning  # noqa: F401

database()

"""What the `dramatiq` command loads: the broker, then every actor module."""

from worker.broker import broker, database  # noqa: F401  (the broker must exist before the actors)

# isort: split
from worker import scheduler  # noqa: F401  (the periodic tick; `periodiq worker.scheduler` sends it)
from worker.actors import (  # noqa: F401
    arrangements,  # payment plans' instalments checked daily
    billing,  # billing runs, invoice PDFs
    commissions,  # commission jobs: engine, reversals, period close
    customers,  # bulk status changes over many customers
    daily,  # due service requests, platform housekeeping
    dunning,
    email,
    mpesa_queries,  # asking M-PESA how an STK push ended when no callback came
    payments,  # automatic charge retries
    payouts,  # commission payouts on the processing day
    privacy,  # customers' data exports, and the daily privacy sweep
    reports,  # scheduled reports e-mailed
    reseller_accounts,  # wholesale charges, credit limits, emergency credit
    usage,  # RADIUS usage, fair use and CoA (registers the CoA subscriber)
)

database()

"""Fixtures for the dashboard and report tests: billable customers (with the ledger audit after each
test), the reseller tree of tests/resellers, signed-in users, and the real SMTP server and worker of
tests/notifications.
"""

from __future__ import annotations

from tests.billing.conftest import billable, make_tenant  # noqa: F401  (fixtures)
from tests.notifications.conftest import mail_broker, mail_worker, smtp_server  # noqa: F401
from tests.provisioning.conftest import make_plan, make_shop  # noqa: F401
from tests.resellers.conftest import root, staff, tree  # noqa: F401

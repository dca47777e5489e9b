"""Work that must happen only once a transaction has committed: sending a queued e-mail, publishing a
domain event, enqueueing a job. Each is held on the session and handed over after the outermost commit;
a rolled-back savepoint drops what was queued inside it, and a transaction that ends without committing
drops everything. Delivery runs in the tenant context the work was queued in.

Why one mechanism: the rules (savepoints, nested commits, rollbacks) are subtle and were the same for
the outbox, the events and the billing jobs; written once, they are right once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tenants import Tenant, current_tenant, tenant_context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Held:
    tenant: Tenant | None
    item: Any
    scope: SessionTransaction | None  # the savepoint, or the transaction, it was queued in


class AfterCommit:
    """A named queue on sessions; `deliver(item)` is called for each item after the commit, in the tenant
    it was queued in. A failing delivery is logged (the commit has happened; `what` says what was lost)."""

    def __init__(self, name: str, deliver: Callable[[Any], None], what: str):
        self.key = f"backhaul.after_commit.{name}"
        self.deliver = deliver
        self.what = what
        _queues.append(self)

    def add(self, session: Session, item: Any) -> None:
        scope = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(self.key, []).append(_Held(current_tenant(), item, scope))

    def _committed(self, session: Session) -> None:
        # SQLAlchemy fires this for a released savepoint too, whose work is not committed yet
        if session.in_nested_transaction():
            return
        for held in session.info.pop(self.key, ()):
            try:
                with tenant_context(held.tenant):
                    self.deliver(held.item)
            except Exception:
                log.exception("%s %r committed but not delivered (%s)", self.what, held.item,
                              held.tenant.code if held.tenant else "the platform")

    def _rolled_back(self, session: Session, previous_transaction: SessionTransaction) -> None:
        held = session.info.get(self.key)
        if held:
            session.info[self.key] = [h for h in held if not _within(h.scope, previous_transaction)]

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(self.key, None)


# One set of SQLAlchemy listeners for every queue, registered once. A queue made later — by a module first
# imported while a commit's deliveries run (a job's actor module, say) — joins `_queues` instead of adding a
# listener to SQLAlchemy's, which would be mutated while it is being iterated.
_queues: list[AfterCommit] = []


def _each(method: str):
    def handler(session: Session, *args) -> None:
        for queue in list(_queues):
            getattr(queue, method)(session, *args)
    return handler


event.listen(Session, "after_commit", _each("_committed"))
event.listen(Session, "after_soft_rollback", _each("_rolled_back"))
event.listen(Session, "after_transaction_end", _each("_ended"))


def _within(scope: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while scope is not None:
        if scope is ended:
            return True
        scope = scope.parent
    return False

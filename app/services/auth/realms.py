"""The three kinds of account that sign in, and the tables that hold each one's state.

Staff live in `public` (`staff_*` tables); reseller users and customers in their tenant's schema. The
rules in this package are written once against a Realm, never three times.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import models as m


@dataclass(frozen=True)
class Realm:
    kind: str
    account: type
    session: type
    login_event: type
    known_device: type
    backup_code: type
    reset_token: type
    idle_minutes: int
    absolute_hours: int
    default_max_sessions: int | None

    @property
    def account_key(self):
        """The account's primary-key column (customers' portal accounts are keyed by customer id)."""
        return self.account.customer_id if self.account is m.PortalAccount else self.account.id


STAFF = Realm("staff", m.StaffUser, m.StaffSession, m.StaffLoginEvent, m.StaffKnownDevice, m.StaffBackupCode,
              m.StaffResetToken, idle_minutes=30, absolute_hours=12, default_max_sessions=None)
USER = Realm("user", m.User, m.AuthSession, m.LoginEvent, m.KnownDevice, m.BackupCode, m.ResetToken,
             idle_minutes=60, absolute_hours=12, default_max_sessions=5)
CUSTOMER = Realm("customer", m.PortalAccount, m.AuthSession, m.LoginEvent, m.KnownDevice, m.BackupCode,
                 m.ResetToken, idle_minutes=30, absolute_hours=24 * 7, default_max_sessions=None)

BY_KIND = {r.kind: r for r in (STAFF, USER, CUSTOMER)}

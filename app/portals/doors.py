"""The three doors people sign in through: who signs in there, on which host, under which path.

One `Door` per kind of account; the sign-in pages (signin.py) and landing pages (home.py) are built from
it, and its paths are the ones the e-mails link to (app/services/auth/links.py holds them).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.services.auth import links
from app.services.auth.realms import CUSTOMER, STAFF, USER, Realm


@dataclass(frozen=True)
class Door:
    name: str  # the template folder (`portal/`, `reseller/`, `console/`) and the blueprint's name
    realm: Realm
    host: str  # the kind of host it opens on (g.realm): "tenant" or "console"
    identifier_label: str  # what the sign-in name is called on the form (a msgid)
    identifier_hint: str | None = None  # a msgid

    @property
    def prefix(self) -> str:
        return links.PREFIX[self.realm.kind]

    @property
    def home(self) -> str:
        return links.HOME[self.realm.kind]

    def path(self, page: str) -> str:
        return links.path(self.realm, page)


CUSTOMERS = Door("portal", CUSTOMER, "tenant", "Portal ID",
                 "Your Portal ID is in your welcome e-mail and on your invoices.")
TEAM = Door("reseller", USER, "tenant", "Username", "Usually your work e-mail address.")
STAFF_DOOR = Door("console", STAFF, "console", "E-mail address")
DOORS = (CUSTOMERS, TEAM, STAFF_DOOR)

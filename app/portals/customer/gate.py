"""Who may open the customer portal's pages: the shared guard (app/portals/gate.py) at the customers' door.

Pages declare their access with `@requires("self.view", kinds=CUSTOMER)`.
"""

from __future__ import annotations

from flask import Blueprint

from app.portals import gate
from app.portals.doors import CUSTOMERS

CUSTOMER = ("customer",)


def guard(bp: Blueprint) -> None:
    gate.guard(bp, CUSTOMERS)

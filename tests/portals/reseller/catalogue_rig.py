"""What the catalogue's and the notification centre's browser tests set up through the services: a service of
a test's own, a change request that waits for approval, a forged POST sent from a page."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select


def tenant(code: str):
    from tenants.registry import directory

    return directory().by_code(code)


def plan_id(db, code: str) -> int:
    from app.models.catalogue import Plan

    with db.session() as s:
        return s.execute(select(Plan.id).where(Plan.code == code)).scalar_one()


def customer_of(db, code: str, portal_id: str):
    from app.models import Customer
    from tenants import tenant_context

    with db.session() as s, tenant_context(tenant(code)):
        found = s.execute(select(Customer).where(Customer.portal_id == portal_id)).scalar_one()
        return found.id, found.display_name


def new_service(db, code: str, portal_id: str, plan: str = "HOME-20") -> int:
    """A Pending service of its own for a test, so that tests never fight over one service's requests or IP."""
    from app.services import services
    from tenants import tenant_context

    customer_id, _name = customer_of(db, code, portal_id)
    with db.session() as s, tenant_context(tenant(code)):
        return services.create(s, customer_id, plan_id(db, plan), installation_address="Test street 1").id


def waiting_request(db, code: str, service_id: int, kind: str, payload: dict) -> int:
    """A change request that waits for approval: the reseller's settings ask for one for `kind`."""
    from app.services import service_requests
    from app.services.settings import get_setting, put_setting
    from tenants import tenant_context

    with db.session() as s, tenant_context(tenant(code)):
        config = dict(get_setting(s, "services") or {})
        config["approval_required"] = sorted({*(config.get("approval_required") or ()), kind})
        put_setting(s, "services", config)
    with db.session() as s, tenant_context(tenant(code)):
        made = service_requests.create(s, service_id, kind, payload)
        assert made.status == "Pending"
        return made.id


def request_status(db, code: str, request_id: int) -> tuple[str, str | None]:
    from app.services import service_requests
    from tenants import tenant_context

    with db.session() as s, tenant_context(tenant(code)):
        found = service_requests.get(s, request_id)
        return found.status, found.note


def retail_today(db, code: str, plan: str) -> Decimal:
    from app.services import pricing
    from tenants import tenant_context

    with db.session() as s, tenant_context(tenant(code)):
        return pricing.retail_price(s, plan_id(db, plan), pricing.today(s)).price


def forged_post(page, path: str, token: str) -> int:
    """A POST the page has no form for, sent from the page itself (its cookies, a real CSRF token)."""
    return page.evaluate("""async ([path, token]) => (await fetch(path, {method: "POST", redirect: "manual",
        body: new URLSearchParams({csrf_token: token, name: "x", note: "x"})})).status""", [path, token])


def shown(amount: Decimal) -> str:
    return f"{amount:,.2f} KES"

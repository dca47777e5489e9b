"""The commission statement of a payout as the reseller downloads it (pypdf reads the text back): drawn in
the reseller's brand, with its lines, their total and, once paid, the rate and the converted amount; every line
of a long statement, drawn by ReportLab directly for the base design and by xhtml2pdf for a theme's own
template; and the payout API around it (the master ISP's schedule, approval and payment, the reseller's
read-only view)."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from decimal import Decimal
from unittest.mock import ANY

from pypdf import PdfReader

from app.models.commissions import CommissionLine
from app.services import branding
from app.services.branding import storage
from app.services.commissions import payouts, statement
from tenants import tenant_context
from tests.commissions.payout_fixtures import (  # noqa: F401  (fixtures)
    add_line,
    payee,
    payouts_of,
    run_day,
    set_schedule,
    sign_in,
    staff_headers,
)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def brand(db, tenant, **fields) -> None:
    with db.session() as s:
        branding.update(s, branding.Owner.of(s, tenant.id), fields, actor="test")


def producer(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).metadata.producer


def many_lines(db, tenant, count: int) -> list[int]:
    """`count` recurring lines of 10% earned in January, written in one transaction (add_line opens one each)."""
    with db.session() as s, tenant_context(tenant):
        rows = [CommissionLine(reseller_id=tenant.id, customer_id=None, source_tenant_id=tenant.id,
                               source_payment_id=900_000 + n, kind="recurring", base_amount=Decimal(100 + n),
                               rate=Decimal("10"), amount=Decimal(100 + n) / 10, currency="KES",
                               period_start=date(2026, 1, 1 + n % 31), period_end=date(2026, 1, 1 + n % 31),
                               status="Pending", source_key=f"many:{tenant.id}:{n}") for n in range(count)]
        s.add_all(rows)
        s.flush()
        return [row.id for row in rows]


def theme(db, tenant, name: str, source: str) -> None:
    """Give the tenant a theme of its own holding `documents/commission_statement.html`."""
    path = storage.themes_root(tenant.schema) / name / "templates" / "documents" / "commission_statement.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    brand(db, tenant, theme=name)


def test_the_statement_pdf_shows_the_brand_and_the_lines_total(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    brand(db, who.tenant, brand_name="Savannah Fibre Partners")
    set_schedule(db, who.tenant)
    add_line(db, who.tenant, "1234.56", date(2026, 1, 7))
    add_line(db, who.tenant, "765.44", date(2026, 1, 21), kind="setup", rate=None)
    add_line(db, who.tenant, "-100.00", date(2026, 1, 25))
    run_day(db, who.tenant, date(2026, 2, 15))
    [payout] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        pdf, name = statement.statement_pdf(s, payout.id)
    words = text_of(pdf)
    assert pdf.startswith(b"%PDF") and name == f"commission-statement-{payout.number}.pdf"
    assert "Savannah Fibre Partners" in words
    assert "Commission statement" in words and payout.number in words
    assert "1,900.00 KES" in words  # 1234.56 + 765.44 - 100.00
    assert "-100.00" in words and "Setup commission" in words


def test_a_paid_statement_shows_the_rate_of_the_payment(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant, currency="USD")
    add_line(db, who.tenant, "5000.00", date(2026, 1, 7))
    run_day(db, who.tenant, date(2026, 2, 15))
    [payout] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        payouts.approve(s, payout.id, actor="ops@isp")
        payouts.mark_paid(s, payout.id, method="wire", reference="SWIFT-778", actor="ops@isp", fx_rate="0.0077")
        words = text_of(statement.statement_pdf(s, payout.id)[0])
    assert "38.50 USD" in words and "0.0077" in words and "SWIFT-778" in words


def test_the_payout_api_from_schedule_to_payment(app, db, payee):  # noqa: F811  (a fixture)
    who = payee()
    client = app.test_client()
    console = staff_headers(client, db)
    reseller = sign_in(client, who.host, who.admin)
    schedule = {"frequency": "monthly", "processing_day": 10, "minimum_threshold": "100.00", "method": "wire",
                "currency": "USD", "dispute_window_days": 3,
                "details": {"bank_name": "Equity", "swift": "EQBLKENA", "account_number": "0140299887766"}}
    reply = client.put(f"/console/api/resellers/{who.code}/payout-schedule", json=schedule, headers=console)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["details"]["account_number"] == "0140299887766"
    bad = client.put(f"/console/api/resellers/{who.code}/payout-schedule", headers=console,
                     json={**schedule, "minimum_threshold": "20.00"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    mine = client.get("/reseller/api/commissions/payout-schedule", headers=reseller).get_json()
    assert (mine["frequency"], mine["minimum_threshold"], mine["configured"]) == ("monthly", "100.00", True)
    assert mine["details"]["account_number"].endswith("7766") and "0140299887766" not in str(mine)

    add_line(db, who.tenant, "12000.00", date(2026, 1, 7))
    run_day(db, who.tenant, date(2026, 2, 10))
    listed = client.get("/reseller/api/commissions/payouts", headers=reseller).get_json()
    assert listed["total"] == 1
    payout = listed["items"][0]
    assert (payout["status"], payout["amount"], payout["currency"]) == ("Scheduled", "12000.00", "KES")
    detail = client.get(f"/reseller/api/commissions/payouts/{payout['id']}", headers=reseller).get_json()
    assert [line["amount"] for line in detail["lines"]] == ["12000.00"]
    pdf = client.get(f"/reseller/api/commissions/payouts/{payout['id']}/statement", headers=reseller)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"

    base = f"/console/api/resellers/{who.code}/payouts/{payout['id']}"
    early = client.post(f"{base}/pay", json={"method": "wire", "reference": "W-1", "fx_rate": "0.0077"},
                        headers=console)
    assert early.status_code == 409
    assert client.post(f"{base}/approve", json={}, headers=console).get_json()["status"] == "Approved"
    floated = client.post(f"{base}/pay", json={"method": "wire", "reference": "W-1", "fx_rate": 0.0077},
                          headers=console)
    assert floated.status_code == 422  # a float has already lost the rate
    paid = client.post(f"{base}/pay", json={"method": "wire", "reference": "W-1", "fx_rate": "0.0077"},
                       headers=console)
    assert paid.status_code == 200, paid.get_json()
    assert (paid.get_json()["status"], paid.get_json()["payout_currency"], paid.get_json()["fx_rate"],
            paid.get_json()["converted_amount"]) == ("Paid", "USD", "0.00770000", "92.40")
    history = client.get(f"/reseller/api/commissions/payouts/{payout['id']}/history", headers=reseller).get_json()
    assert [(h["action"], h["actor"]) for h in history] == [("payout.built", "system"), ("payout.approved", ANY),
                                                           ("payout.paid", ANY)]
    assert history[-1]["after"]["converted_amount"] == "92.40"
    assert client.get(f"{base}/history", headers=console).get_json() == history
    # the reseller reads; it cannot approve or pay
    assert client.post(f"{base}/approve", json={}, headers=reseller).status_code in (401, 403, 404)


def test_a_reseller_sees_only_its_own_payouts(app, db, payee):  # noqa: F811  (a fixture)
    mine, other = payee(), payee()
    for who in (mine, other):
        set_schedule(db, who.tenant)
    add_line(db, other.tenant, "500.00", date(2026, 1, 7))
    run_day(db, other.tenant, date(2026, 2, 15))
    [theirs] = payouts_of(db, other.tenant)
    client = app.test_client()
    headers = sign_in(client, mine.host, mine.admin)
    assert client.get("/reseller/api/commissions/payouts", headers=headers).get_json()["total"] == 0
    for path in (f"/reseller/api/commissions/payouts/{theirs.id}",
                 f"/reseller/api/commissions/payouts/{theirs.id}/statement"):
        reply = client.get(path, headers=headers)
        assert reply.status_code == 404 and reply.mimetype == "application/problem+json"
    console = staff_headers(client, db)
    assert client.get("/console/api/resellers/NO_SUCH_CODE/payouts", headers=console).status_code == 404


def test_a_long_statement_sums_its_lines_by_kind(db, payee, monkeypatch):  # noqa: F811  (a fixture)
    monkeypatch.setattr(statement, "DETAIL_LIMIT", 2)
    who = payee()
    set_schedule(db, who.tenant)
    for amount in ("10.00", "20.00", "30.00"):
        add_line(db, who.tenant, amount, date(2026, 1, 7))
    add_line(db, who.tenant, "-5.00", date(2026, 1, 9), reverses_id=None)
    run_day(db, who.tenant, date(2026, 2, 15))
    [payout] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        document = statement.document(s, payout)
        words = text_of(statement.statement_pdf(s, payout.id)[0])
    assert [(r["description"], r["amount"]) for r in document["lines"]] == [
        ("Recurring commission: 4 lines", Decimal("55.00"))]
    assert "4 lines, summed by kind" in words and "55.00 KES" in words


def test_a_user_limited_to_some_customers_does_not_see_commissions(app, db, payee):  # noqa: F811  (a fixture)
    from app.services import customers
    from app.services.auth import users
    from tests.auth.conftest import PASSWORD

    who = payee()
    with db.session() as s, tenant_context(who.tenant):
        customer = customers.create(s, first_name="Baraka", last_name="Kip", email="baraka.kip@example.com")
        users.create_user(s, username="agent.limited@reseller.example", email="agent.limited@reseller.example",
                          role="Manager", password=PASSWORD, allowed_customer_ids=[customer.id])
    client = app.test_client()
    headers = sign_in(client, who.host, "agent.limited@reseller.example")
    assert client.get("/reseller/api/commissions/payouts", headers=headers).status_code == 403
    assert client.get("/reseller/api/commissions/payouts", headers=sign_in(client, who.host, who.admin)
                      ).status_code == 200


def test_a_300_line_statement_lists_every_line_and_is_drawn_by_reportlab(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    brand(db, who.tenant, brand_name="Kilima Towers Resellers")
    set_schedule(db, who.tenant)
    ids = many_lines(db, who.tenant, 300)
    run_day(db, who.tenant, date(2026, 2, 15))
    [payout] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        pdf = statement.statement_pdf(s, payout.id)[0]
    assert producer(pdf).startswith("ReportLab")  # the base design's fast path, not xhtml2pdf
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    words = "\n".join(pages)
    assert "summed by kind" not in words
    for line_id in ids:
        assert f"#{line_id} Recurring commission" in words, line_id
    # 100 + 101 + … + 399, a tenth of it: 7,485.00
    assert payout.amount == Decimal("7485.00") and "7,485.00 KES" in pages[-1]
    assert "Kilima Towers Resellers" in pages[0] and "PAYEE" in pages[0] and payout.number in pages[0]
    for number, page in enumerate(pages, start=1):
        assert f"Commission statement {payout.number} · Page {number} of {len(pages)}" in page
        assert "Amount" in page and "Base" in page  # the heading row is repeated on every page
    assert len(pages) > 5


def test_a_theme_with_its_own_statement_template_keeps_the_html_path(db, payee, monkeypatch):  # noqa: F811
    themed, plain = payee(), payee()
    theme(db, themed.tenant, "mwezi", '{% extends "base:documents/commission_statement.html" %}\n'
          "{% block notes %}<p>Asante kwa ushirikiano, {{ commission_statement.customer.name }}.</p>{% endblock %}\n")
    for who in (themed, plain):
        set_schedule(db, who.tenant)
        for amount in ("10.00", "20.00", "30.00"):
            add_line(db, who.tenant, amount, date(2026, 1, 7))
        run_day(db, who.tenant, date(2026, 2, 15))
    monkeypatch.setattr(statement, "THEMED_DETAIL_LIMIT", 2)  # xhtml2pdf's limit: only the themed one sums
    drawn = {}
    for who in (themed, plain):
        [payout] = payouts_of(db, who.tenant)
        with db.session() as s, tenant_context(who.tenant):
            drawn[who.code] = statement.statement_pdf(s, payout.id)[0]
    mine, theirs = drawn[themed.code], drawn[plain.code]
    assert producer(mine).startswith("xhtml2pdf") and producer(theirs).startswith("ReportLab")
    assert f"Asante kwa ushirikiano, {themed.tenant.name}." in text_of(mine)
    assert "Recurring commission: 3 lines" in text_of(mine) and "60.00 KES" in text_of(mine)
    assert "Asante" not in text_of(theirs) and "3 lines" not in text_of(theirs)
    assert text_of(theirs).count("Recurring commission") == 3 and "60.00 KES" in text_of(theirs)


def test_both_paths_print_the_same_statement(db, payee):  # noqa: F811  (a fixture)
    """The fast path is the base template written in Python: the same labels, figures, dates and order of
    blocks, so a reseller's PDF reads the same whichever path drew it (page breaks may fall a line apart)."""
    who = payee()
    brand(db, who.tenant, brand_name="Savannah Fibre Partners", address="Moi Avenue 4\nNairobi",
          terms="Commissions are paid monthly.")
    set_schedule(db, who.tenant, currency="USD")
    add_line(db, who.tenant, "1234.56", date(2026, 1, 7))
    add_line(db, who.tenant, "765.44", date(2026, 1, 21), kind="setup", rate=None)
    add_line(db, who.tenant, "-100.00", date(2026, 1, 25))
    run_day(db, who.tenant, date(2026, 2, 15))
    [payout] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        payouts.approve(s, payout.id, actor="ops@isp")
        payouts.mark_paid(s, payout.id, method="wire", reference="SWIFT-778", actor="ops@isp", fx_rate="0.0077")
        fast = statement.statement_pdf(s, payout.id)[0]
    theme(db, who.tenant, "same", '{% extends "base:documents/commission_statement.html" %}\n')
    with db.session() as s, tenant_context(who.tenant):
        slow = statement.statement_pdf(s, payout.id)[0]
    assert producer(fast).startswith("ReportLab") and producer(slow).startswith("xhtml2pdf")

    def lines(pdf: bytes) -> Counter:
        return Counter(line.strip() for line in text_of(pdf).splitlines() if line.strip())

    assert lines(fast) == lines(slow)
    words = text_of(fast)
    for piece in ("PAYEE", "Disputes until", "Earned in the period", "1,900.00 KES", "Rate KES/USD", "0.0077",
                  "14.63 USD", "wire · SWIFT-778", "Terms and conditions",
                  f"Commission statement {payout.number} · Page 1 of 1"):
        assert piece in words, piece


def test_a_very_long_adjustment_note_is_shortened_and_keeps_the_fast_path(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant)
    add_line(db, who.tenant, "500.00", date(2026, 1, 7))
    note = "Resolved after review of the January M-Pesa statements. " * 100  # longer than a page can hold
    with db.session() as s, tenant_context(who.tenant):
        s.add(CommissionLine(reseller_id=who.tenant.id, customer_id=None, source_tenant_id=who.tenant.id,
                             kind="adjustment", base_amount=Decimal("25.00"), rate=None, amount=Decimal("25.00"),
                             currency="KES", period_start=date(2026, 1, 20), period_end=date(2026, 1, 20),
                             status="Pending", note=note, source_key=f"adjust:{who.tenant.id}"))
        s.flush()  # inside the tenant's context: its schema is the search path
    run_day(db, who.tenant, date(2026, 2, 15))
    [payout] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        [row] = [r for r in statement.document(s, payout)["lines"] if r["kind"] == "adjustment"]
        pdf = statement.statement_pdf(s, payout.id)[0]
    assert row["description"].endswith("…") and len(row["description"]) < 350
    assert producer(pdf).startswith("ReportLab") and "525.00 KES" in text_of(pdf)

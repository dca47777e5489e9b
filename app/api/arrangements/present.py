"""Disputes and plans as the API answers them, for both doors: the reseller's (`team=True`: with the customer,
who did what and the detail of every change) and the customer's own (`/portal/api`, addresses of its own).
The schemas (schemas.py) choose what each door shows; this only gathers it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models.arrangements import InvoiceDispute, PaymentPlan
from app.services.billing.arrangements import disputes, documents, evidence, history, plans

DISPUTE = ("id", "customer_id", "invoice_id", "status", "reason", "message", "currency", "disputed_amount",
           "opened_on", "expected_by", "opened_by", "outcome", "credited_amount", "credit_note_id", "payment_plan_id",
           "answer", "answered_by", "answered_at", "appealed_at", "created_at")
PLAN = ("id", "customer_id", "status", "currency", "amount", "proposed_instalments", "message", "decision_note",
        "requested_by", "decided_by", "decided_at", "ended_on", "created_at")


def _event(e) -> dict:
    return {"at": e.at, "action": e.action, "from_status": e.from_status, "to_status": e.to_status, "note": e.note,
            "actor": e.actor, "detail": e.detail}


def disputes_out(session: Session, rows: list[InvoiceDispute], *, base: str, detail: bool = False) -> list[dict]:
    """`base`: where a dispute's documents are downloaded, `<base>/<id>/attachments/<attachment id>`."""
    ids = [d.id for d in rows]
    lines, files = disputes.lines_of(session, ids), documents.of_disputes(session, ids)
    numbers = disputes.invoice_numbers(session, sorted({d.invoice_id for d in rows} | {
        d.credit_note_id for d in rows if d.credit_note_id}))
    out = []
    for d in rows:
        item = {name: getattr(d, name) for name in DISPUTE}
        item.update(invoice_number=numbers.get(d.invoice_id), credit_note_number=numbers.get(d.credit_note_id),
                    appealable=disputes.appealable(session, d),
                    lines=[{"line_id": r.line_id, "service_id": r.service_id, "description": r.description,
                            "amount": r.amount} for r in lines[d.id]],
                    attachments=[{"id": a.id, "file_name": a.file_name, "content_type": a.content_type, "size": a.size,
                                  "created_at": a.created_at, "url": f"{base}/{d.id}/attachments/{a.id}"}
                                 for a in files[d.id]])
        if detail:
            item.update(evidence=evidence.of_dispute(session, d.id),
                        history=[_event(e) for e in history.of_dispute(session, d.id)])
        out.append(item)
    return out


def plan_out(session: Session, plan: PaymentPlan) -> dict:
    found = plans.view(session, plan)
    out = {name: getattr(plan, name) for name in PLAN}
    out.update(paid=found["paid"], remaining=found["remaining"],
               next_due_on=found["next_due"]["due_on"] if found["next_due"] else None, dispute_id=found["dispute_id"],
               invoices=[{"invoice_id": i.id, "number": i.number, "owed": owed, "status": i.status}
                         for i, owed in found["invoices"]],
               instalments=found["instalments"], history=[_event(e) for e in found["history"]])
    return out


def offer_out(found: plans.Offer) -> dict:
    rules = found.policy
    return {"eligible": found.eligible, "refusal": found.refusal, "owed": found.owed, "currency": found.currency,
            "min_balance": rules.min_balance, "min_instalments": rules.min_instalments,
            "max_instalments": rules.max_instalments,
            "open_plan_id": found.open_plan.id if found.open_plan else None}


def page(items: list[dict], total: int, args: dict) -> dict:
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}

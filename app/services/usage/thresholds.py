"""The customer's own usage alerts, in percent of the plan's data allowance (1 to 100), on top of the
platform's 75, 90 and 100. Each is announced once per billing cycle, like the platform's (fup.py)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models.usage import UsageThreshold
from app.services import services
from app.services.errors import Invalid

DEFAULT = (75, 90, 100)
MAX_PER_SERVICE = 10


def _percent(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise Invalid("percent: a whole number from 1 to 100", field="percent")
    return value


def of_service(session: Session, service_id: int) -> list[int]:
    return list(session.execute(select(UsageThreshold.percent).where(UsageThreshold.service_id == service_id)
                                .order_by(UsageThreshold.percent)).scalars())


def set_for_service(session: Session, service_id: int, percents: list[int]) -> list[int]:
    """Replace the service's own alerts with `percents` (duplicates ignored); returns them sorted."""
    services.get(session, service_id)
    wanted = sorted({_percent(p) for p in percents})
    if len(wanted) > MAX_PER_SERVICE:
        raise Invalid(f"at most {MAX_PER_SERVICE} usage alerts per service", field="percents")
    session.execute(delete(UsageThreshold).where(UsageThreshold.service_id == service_id,
                                                 UsageThreshold.percent.not_in(wanted or [0])))
    for percent in wanted:
        session.execute(insert(UsageThreshold).values(service_id=service_id, percent=percent)
                        .on_conflict_do_nothing(index_elements=["service_id", "percent"]))
    return wanted


def for_services(session: Session, service_ids: list[int]) -> dict[int, list[int]]:
    """Every threshold (the platform's and the customer's) per service, ascending."""
    found: dict[int, set[int]] = {sid: set(DEFAULT) for sid in service_ids}
    if service_ids:
        for sid, percent in session.execute(select(UsageThreshold.service_id, UsageThreshold.percent)
                                            .where(UsageThreshold.service_id.in_(service_ids))):
            found[sid].add(percent)
    return {sid: sorted(values) for sid, values in found.items()}

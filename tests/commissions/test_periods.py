"""The commission routes read `period` as every route does (app/services/periods.py, issue 13): a month
that is not one of the calendar ("0000-01") is a 422 naming `period`, never a 500; any month of the
calendar is a fine thing to ask a report about, and a month with no lines answers with none."""

from __future__ import annotations

import pytest

from tests.commissions.test_api import _user
from tests.conftest import host_of
from tests.resellers.conftest import sign_in


@pytest.mark.parametrize("route", ["/reseller/api/commissions/summary", "/reseller/api/commissions"])
def test_a_period_outside_the_calendar_is_a_422_naming_the_field(db, client, make_tenant, route):
    tenant = make_tenant("CP")
    headers = sign_in(client, host_of(tenant), _user(db, tenant))
    for period in ("0000-01", "0000-12"):
        reply = client.get(f"{route}?period={period}", headers=headers)
        assert reply.status_code == 422, reply.get_json()
        assert reply.headers["Content-Type"].startswith("application/problem+json")
        assert reply.get_json()["field"] == "period" and "0001-01 to 9999-12" in reply.get_json()["detail"]


def test_any_month_of_the_calendar_is_a_report_with_nothing_in_it(db, client, make_tenant):
    tenant = make_tenant("CP")
    headers = sign_in(client, host_of(tenant), _user(db, tenant))
    first = client.get("/reseller/api/commissions/summary?period=0001-01", headers=headers)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["start"], first.get_json()["end"], first.get_json()["totals"]) == ("0001-01-01",
                                                                                              "0001-01-31", [])
    last = client.get("/reseller/api/commissions/summary?period=9999-12", headers=headers)
    assert last.status_code == 200 and last.get_json()["end"] == "9999-12-31"
    lines = client.get("/reseller/api/commissions?period=9999-12", headers=headers)
    assert lines.status_code == 200 and lines.get_json()["total"] == 0

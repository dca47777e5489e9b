"""A report's file as a job through the API (`POST …/api/reports/<name>/exports`, app/api/reports/routes.py), on the
real Redis and a real Dramatiq worker: the client follows the job to done and downloads the file, which is the one
the report endpoint writes; asking again gives the same job; nobody else (another member, another reseller's member,
staff, a reseller for staff's) reads it or its file; what the report refuses the job refuses, and nothing is kept."""

from __future__ import annotations

import io

import redis as redis_lib
from openpyxl import load_workbook

from app.services.reports import export
from tenants.storage import redis_key
from tests.reports.test_export_jobs import drain
from tests.resellers.conftest import add_customer, sign_in, staff_headers

PROBLEM = "application/problem+json"


def _follow(client, url: str, headers: dict) -> dict:
    reply = client.get(url, headers=headers)
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def test_a_reseller_follows_its_job_to_done_and_gets_the_reports_csv(app, db, tree, export_broker):
    add_customer(db, tree.grandchild.tenant, "Second")
    client = app.test_client()
    headers = sign_in(client, tree.root.host, tree.root.admin)
    asked = client.post("/reseller/api/reports/customers_by_status/exports",
                        json={"consolidated": True, "format": "csv"}, headers=headers)
    assert asked.status_code == 202, asked.get_json()
    job = asked.get_json()
    assert asked.headers["Location"] == job["status_url"] == f"/reseller/api/reports/exports/{job['id']}"
    assert job["file_url"] == f"{job['status_url']}/file"
    assert (job["report"], job["state"], job["done"], job["total"], job["percent"]) == (
        "customers_by_status", "queued", 0, 4, 0)  # a job though four tenants are few: the client chose one
    assert (job["format"], job["consolidated"], job["filename"], job["size"]) == ("csv", True, None, None)

    again = client.post("/reseller/api/reports/customers_by_status/exports",
                        json={"consolidated": True, "format": "csv"}, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == job["id"]  # retried: the same job, one pass
    early = client.get(job["file_url"], headers=headers)
    assert early.status_code == 409 and early.content_type == PROBLEM and early.get_json()["state"] == "queued"

    drain(export_broker)
    done = _follow(client, job["status_url"], headers)
    assert (done["state"], done["done"], done["total"], done["percent"]) == ("done", 4, 4, 100)
    got = client.get(job["file_url"], headers=headers)
    assert got.status_code == 200 and got.content_type == export.CONTENT_TYPES["csv"]
    assert got.headers["Content-Disposition"] == f'attachment; filename="{done["filename"]}"'
    report = client.get("/reseller/api/reports/customers_by_status?consolidated=true&format=csv", headers=headers)
    assert got.data == report.data and len(got.data) == done["size"]
    assert got.headers["Content-Disposition"] == report.headers["Content-Disposition"]
    assert tree.grandchild.code in got.get_data(as_text=True)

    page = client.get(f"/reseller/reports/exports/{job['id']}", headers=headers)
    assert page.status_code == 200 and "The file is ready" in page.get_data(as_text=True)  # the page's job too
    assert "/reseller/reports/customers_by_status?" in page.get_data(as_text=True)  # its way back to the report


def test_nobody_else_reads_the_job_or_its_file(app, db, tree, staff, export_broker):
    client = app.test_client()
    mine = sign_in(client, tree.root.host, tree.root.admin)
    job = client.post("/reseller/api/reports/churn/exports", json={"format": "xlsx", "consolidated": True},
                      headers=mine).get_json()
    drain(export_broker)
    assert _follow(client, job["status_url"], mine)["state"] == "done"
    assert client.get(job["file_url"], headers=mine).status_code == 200

    strangers = {"another member of the team": sign_in(client, tree.root.host, tree.root.viewer),
                 "another reseller's admin": sign_in(client, tree.child.host, tree.child.admin)}
    for who, headers in strangers.items():
        for url in (job["status_url"], job["file_url"]):
            reply = client.get(url, headers=headers)
            assert (reply.status_code, reply.content_type) == (404, PROBLEM), (who, url)
    console = staff_headers(client, staff)
    for url in (f"/console/api/reports/exports/{job['id']}", f"/console/api/reports/exports/{job['id']}/file"):
        assert client.get(url, headers=console).status_code == 404, url
    assert client.get("/reseller/api/reports/exports/no-such-job", headers=mine).status_code == 404
    assert client.get("/reseller/api/reports/exports/no-such-job/file", headers=mine).status_code == 404


def test_what_the_report_refuses_the_job_refuses_and_nothing_is_kept(app, tree, redis_url):
    client = app.test_client()
    headers = sign_in(client, tree.root.host, tree.root.admin)
    refused = {
        ("revenue", "json"): {"format": "json"},  # the report's own answer, not a file
        ("revenue", "method"): {"method": "cash"},  # collections takes it; revenue does not
        ("collections", "method"): {"method": "cheque"},
        ("revenue", "from"): {"from": "2026-05-01", "to": "2026-04-01"},
        ("revenue", "colour"): {"colour": "blue"},
    }
    for (name, what), body in refused.items():
        reply = client.post(f"/reseller/api/reports/{name}/exports", json=body, headers=headers)
        assert (reply.status_code, reply.content_type) == (422, PROBLEM), (name, what, reply.get_json())
        assert what in str(reply.get_json()), (name, what, reply.get_json())
    unknown = client.post("/reseller/api/reports/no_such_report/exports", json={}, headers=headers)
    assert (unknown.status_code, unknown.content_type) == (404, PROBLEM)
    kept = redis_lib.Redis.from_url(redis_url).keys(redis_key(tree.root.tenant.schema, "report-export", "*"))
    assert kept == []


def test_staff_follow_a_console_job_over_the_platform(app, db, tree, staff, export_broker):
    client = app.test_client()
    console = staff_headers(client, staff)
    subtree = client.post("/console/api/reports/revenue/exports", json={"tenant": tree.child.code, "format": "xlsx"},
                          headers=console)
    assert subtree.status_code == 202, subtree.get_json()
    one = subtree.get_json()
    assert (one["tenant"], one["total"], one["format"]) == (tree.child.code, 2, "xlsx")
    assert "consolidated" not in one and one["status_url"] == f"/console/api/reports/exports/{one['id']}"
    every = client.post("/console/api/reports/customers_by_status/exports", json={}, headers=console)
    assert every.status_code == 202 and every.headers["Location"] == every.get_json()["status_url"]
    platform = every.get_json()
    assert platform["tenant"] is None and platform["format"] == "csv" and platform["total"] >= 4
    missing = client.post("/console/api/reports/revenue/exports", json={"tenant": "NO_SUCH_CODE"}, headers=console)
    assert (missing.status_code, missing.content_type) == (404, PROBLEM)

    drain(export_broker)
    for job in (one, platform):
        assert _follow(client, job["status_url"], console)["state"] == "done"
    csv_file = client.get(platform["file_url"], headers=console)
    csv_report = client.get("/console/api/reports/customers_by_status?format=csv", headers=console)
    assert csv_file.status_code == 200 and csv_file.data == csv_report.data
    assert {tree.root.code, tree.grandchild.code, tree.sibling.code} <= {
        line.split(",")[0] for line in csv_file.get_data(as_text=True).splitlines()}
    xlsx_file = client.get(one["file_url"], headers=console)
    xlsx_report = client.get(f"/console/api/reports/revenue?tenant={tree.child.code}&format=xlsx", headers=console)
    assert xlsx_file.content_type == export.CONTENT_TYPES["xlsx"]
    mine, theirs = (load_workbook(io.BytesIO(r.data)) for r in (xlsx_file, xlsx_report))
    assert list(mine["Report"].values) == list(theirs["Report"].values)

    reseller = sign_in(client, tree.root.host, tree.root.admin)
    assert client.get(f"/reseller/api/reports/exports/{platform['id']}", headers=reseller).status_code == 404

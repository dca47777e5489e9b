"""The staff API, `/console/api/staff`: staff add a colleague (invited by e-mail, or with a password shown once),
find them, change them, deactivate them (signed out at once) and bring them back, and reset a lost second
factor; every change is in the audit log, and the console cannot lock itself out."""

from __future__ import annotations

import json

import pyotp
import pytest
from sqlalchemy import select, update

from app import models as m
from app.services import staff
from app.services.auth import totp
from app.services.auth.realms import STAFF
from app.services.errors import Conflict
from tests.auth.conftest import PASSWORD, bearer
from tests.conftest import RUN_ID
from tests.staff.conftest import CONSOLE, headers_of, new_staff, sign_in

API = "/console/api/staff"


def _audit(db, action: str, staff_id: int) -> list:
    with db.session() as s:
        rows = s.execute(select(m.AuditEvent).where(m.AuditEvent.action == action).order_by(m.AuditEvent.id)
                         ).scalars().all()
        return [r for r in rows if r.detail.get("staff_id") == staff_id]


def test_adding_a_member_invites_them_by_e_mail(app, db, admin):
    client = app.test_client()
    admin_id, admin_email, headers = admin
    email = f"Amina.Otieno-{RUN_ID}@ISP.example"
    made = client.post(API, headers=headers, json={"name": " Amina Otieno ", "email": email})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["email"] == email.lower() and body["name"] == "Amina Otieno"
    assert body["invitation_sent"] is True and body["generated_password"] is None
    assert body["password_set"] is False and body["is_active"] is True and body["can_impersonate"] is False
    with db.session() as s:
        mail = s.execute(select(m.PlatformOutbox).where(m.PlatformOutbox.to_address == email.lower())).scalar_one()
        assert mail.template == "security/password_reset" and "/console/password/reset?token=" in mail.body_text
    assert sign_in(client, email.lower(), PASSWORD).status_code == 401  # no password until they choose one
    [entry] = _audit(db, "staff.create", body["id"])
    assert admin_email in entry.actor and entry.detail["invited"] is True

    again = client.post(API, headers=headers, json={"name": "Someone Else", "email": email.upper()})
    assert again.status_code == 409 and again.headers["Content-Type"].startswith("application/problem+json")
    assert again.get_json()["field"] == "email"
    bad = client.post(API, headers=headers, json={"name": "", "email": "not an address"})
    assert bad.status_code == 422


def test_a_generated_password_is_shown_once_and_works(app, db, admin):
    client = app.test_client()
    _, _, headers = admin
    email = f"kamau-{RUN_ID}@isp.example"
    made = client.post(API, headers=headers, json={"name": "Kamau", "email": email, "invite": False,
                                                    "can_impersonate": True})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    password = body["generated_password"]
    assert password and body["invitation_sent"] is False and body["password_set"] is True
    assert body["can_impersonate"] is True
    assert sign_in(app.test_client(), email, password).status_code == 200
    shown = client.get(f"{API}/{body['id']}", headers=headers)
    assert shown.status_code == 200 and "generated_password" not in shown.get_json()
    assert password not in shown.get_data(as_text=True)
    with db.session() as s:
        assert not s.execute(select(m.PlatformOutbox).where(m.PlatformOutbox.to_address == email)).first()
        assert all(password not in json.dumps(e.detail) for e in s.execute(select(m.AuditEvent)).scalars())


def test_members_are_found_by_name_or_e_mail_a_page_at_a_time(app, db, admin):
    client = app.test_client()
    _, _, headers = admin
    tag = f"zq{RUN_ID}"
    ids = [new_staff(db, f"Otieno {tag} {n}")[0] for n in range(3)]
    found = client.get(f"{API}?q={tag.upper()}&page_size=2", headers=headers)
    assert found.status_code == 200
    assert [r["id"] for r in found.get_json()] == ids[:2]
    assert json.loads(found.headers["X-Pagination"])["total"] == 3
    second = client.get(f"{API}?q={tag}&page=2&page_size=2", headers=headers)
    assert [r["id"] for r in second.get_json()] == ids[2:]
    _, email = new_staff(db, "Plain Name")
    by_mail = client.get(f"{API}?q={email.split('@')[0]}", headers=headers).get_json()
    assert [r["email"] for r in by_mail] == [email]
    assert client.get(f"{API}?q=%25", headers=headers).status_code == 200  # a wildcard is a character here


def test_a_member_is_renamed_and_allowed_to_impersonate(app, db, admin):
    client = app.test_client()
    _, _, headers = admin
    staff_id, _ = new_staff(db, "Njeri")
    changed = client.patch(f"{API}/{staff_id}", headers=headers, json={"name": "Njeri Wanjiku",
                                                                        "can_impersonate": True})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["name"] == "Njeri Wanjiku" and changed.get_json()["can_impersonate"] is True
    [entry] = _audit(db, "staff.update", staff_id)
    assert entry.detail["before"] == {"name": "Njeri", "can_impersonate": False}
    assert entry.detail["after"] == {"name": "Njeri Wanjiku", "can_impersonate": True}
    assert client.patch(f"{API}/{staff_id}", headers=headers, json={"name": "Njeri Wanjiku"}).status_code == 200
    assert len(_audit(db, "staff.update", staff_id)) == 1  # nothing changed: nothing audited
    assert client.patch(f"{API}/{staff_id}", headers=headers, json={"name": "   "}).get_json()["field"] == "name"
    missing = client.get(f"{API}/999999999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["type"] == "/problems/not-found"


def test_deactivating_signs_them_out_and_reactivating_lets_them_back(app, db, admin):
    client = app.test_client()
    admin_id, _, headers = admin
    staff_id, email = new_staff(db, "Otieno Deactivated")
    theirs = headers_of(app.test_client(), email)
    assert client.get("/console/auth/me", headers=theirs).status_code == 200
    done = client.post(f"{API}/{staff_id}/deactivate", headers=headers, json={"reason": "Left the company"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["is_active"] is False and done.get_json()["active_sessions"] == 0
    assert client.get("/console/auth/me", headers=theirs).status_code == 401  # signed out at once
    assert sign_in(app.test_client(), email).status_code == 401
    [entry] = _audit(db, "staff.deactivate", staff_id)
    assert entry.detail["reason"] == "Left the company" and entry.detail["sessions_ended"] == 1
    assert client.post(f"{API}/{staff_id}/deactivate", headers=headers, json={}).status_code == 409
    assert client.post(f"{API}/{staff_id}/password-link", headers=headers).status_code == 409

    back = client.post(f"{API}/{staff_id}/reactivate", headers=headers, json={})
    assert back.status_code == 200 and back.get_json()["is_active"] is True
    assert sign_in(app.test_client(), email).status_code == 200
    assert client.post(f"{API}/{staff_id}/reactivate", headers=headers, json={}).status_code == 409
    assert _audit(db, "staff.reactivate", staff_id)

    yourself = client.post(f"{API}/{admin_id}/deactivate", headers=headers, json={})
    assert yourself.status_code == 409 and "your own account" in yourself.get_json()["detail"]


def test_the_last_active_account_cannot_be_deactivated(db):
    staff_id, _ = new_staff(db, "The Last One")
    session = db.sessionmaker()
    try:  # everyone else inactive, in a transaction rolled back at once: other tests' staff are untouched
        session.execute(update(m.StaffUser).where(m.StaffUser.id != staff_id).values(is_active=False))
        with pytest.raises(Conflict, match="last active staff account"):
            staff.deactivate(session, staff_id, actor="system", actor_id=None)
    finally:
        session.rollback()
        session.close()


def test_a_lost_second_factor_is_reset(app, db, admin):
    client = app.test_client()
    admin_id, _, headers = admin
    staff_id, email = new_staff(db, "Phone Lost")
    with db.session() as s:
        member = s.get(m.StaffUser, staff_id)
        secret = totp.begin_enrolment(member, email, "Backhaul")["secret"]
        totp.confirm_enrolment(s, STAFF, member, pyotp.TOTP(secret).now())
    before = client.get(f"{API}/{staff_id}", headers=headers).get_json()
    assert before["two_step"] is True and before["backup_codes_left"] == 10
    assert sign_in(app.test_client(), email).status_code != 200  # a code is asked for

    done = client.post(f"{API}/{staff_id}/reset-two-step", headers=headers, json={"reason": "Phone stolen"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["two_step"] is False and done.get_json()["backup_codes_left"] == 0
    assert sign_in(app.test_client(), email).status_code == 200  # the password alone, until they set it up again
    assert _audit(db, "staff.two_step_reset", staff_id)[0].detail["reason"] == "Phone stolen"
    assert client.post(f"{API}/{staff_id}/reset-two-step", headers=headers, json={}).status_code == 409
    assert client.post(f"{API}/{admin_id}/reset-two-step", headers=headers, json={}).status_code == 409


def test_a_new_password_link_is_sent(app, db, admin):
    client = app.test_client()
    _, _, headers = admin
    staff_id, email = new_staff(db, "Link Wanted")
    assert client.post(f"{API}/{staff_id}/password-link", headers=headers).status_code == 200
    with db.session() as s:
        assert s.execute(select(m.PlatformOutbox).where(m.PlatformOutbox.to_address == email)).scalar_one()
    assert _audit(db, "staff.password_link", staff_id)


def test_only_staff_reach_the_staff_api(app, db, accounts):
    client = app.test_client()
    anonymous = client.get(API, headers={"Host": CONSOLE})
    assert anonymous.status_code == 401 and anonymous.headers["Content-Type"].startswith("application/problem+json")
    acc = accounts()
    signed = client.post("/reseller/auth/login", json={"username": acc.username, "password": PASSWORD},
                         headers={"Host": acc.host})
    token = signed.get_json()["token"]
    assert client.get(API, headers=bearer(token, CONSOLE)).status_code in (401, 403)
    assert client.get(API, headers=bearer(token, acc.host)).status_code in (401, 403, 404)

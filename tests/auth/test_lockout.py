"""Five failures lock an account for 30 minutes, with one e-mail; a known device is not locked out."""

from datetime import timedelta

from sqlalchemy import select

from app.models import LoginEvent, Outbox, User
from app.models.base import utcnow
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, reseller_login

WRONG = "Wrong#Pass1"


def _outbox(db, tenant, template):
    with db.session() as s, tenant_context(tenant):
        return s.execute(select(Outbox).where(Outbox.template == template)).scalars().all()


def test_five_failures_lock_the_account_for_thirty_minutes(client, db, accounts):
    acc = accounts()
    for _ in range(4):
        assert reseller_login(client, acc, password=WRONG).status_code == 401
    assert reseller_login(client, acc, password=WRONG).status_code == 401  # the fifth locks
    locked = reseller_login(client, acc)  # even the right password
    assert locked.status_code == 423 and locked.get_json()["type"] == "/problems/account-locked"
    with db.session() as s, tenant_context(acc.tenant):
        user = s.get(User, acc.user_id)
        remaining = user.locked_until - utcnow()
        reasons = s.execute(select(LoginEvent.reason).where(LoginEvent.principal_id == acc.user_id)
                            .order_by(LoginEvent.id)).scalars().all()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    assert reasons.count("wrong password") == 5 and "locked" in reasons
    mails = _outbox(db, acc.tenant, "security/lockout")
    assert len(mails) == 1 and mails[0].to_address == acc.username

    for _ in range(3):  # attempts while locked neither extend the lock nor send more mail
        assert reseller_login(client, acc, password=WRONG).status_code == 423
    with db.session() as s, tenant_context(acc.tenant):
        assert s.get(User, acc.user_id).locked_until - utcnow() <= remaining
    assert len(_outbox(db, acc.tenant, "security/lockout")) == 1


def test_lock_expires(client, db, accounts):
    acc = accounts()
    for _ in range(5):
        reseller_login(client, acc, password=WRONG)
    with db.session() as s, tenant_context(acc.tenant):
        s.get(User, acc.user_id).locked_until = utcnow() - timedelta(seconds=1)
    assert reseller_login(client, acc).status_code == 200


def test_a_known_device_still_signs_in_while_an_attacker_holds_the_lock(app, db, accounts):
    acc = accounts()
    owner, attacker = app.test_client(), app.test_client()
    assert reseller_login(owner, acc).status_code == 200  # the owner's device gets its cookie
    for _ in range(8):
        reseller_login(attacker, acc, password=WRONG)
    assert reseller_login(attacker, acc).status_code == 423
    assert reseller_login(owner, acc).status_code == 200


def test_failures_are_rate_limited_per_address(client, accounts):
    acc, other = accounts(), accounts()
    ip = {"REMOTE_ADDR": "198.51.100.77"}
    for n in range(20):  # spread over many accounts so that no account lock interferes
        target = other if n % 2 else acc
        client.post("/reseller/auth/login", json={"username": f"ghost{n}", "password": WRONG},
                    headers={"Host": target.host}, environ_base=ip)
    still = client.post("/reseller/auth/login", json={"username": acc.username, "password": PASSWORD},
                        headers={"Host": acc.host}, environ_base=ip)
    # the limit is per tenant: `acc` saw 10 failures from this address, `other` 10
    assert still.status_code == 200
    for n in range(10):
        client.post("/reseller/auth/login", json={"username": f"ghost{n}", "password": WRONG},
                    headers={"Host": acc.host}, environ_base=ip)
    limited = client.post("/reseller/auth/login", json={"username": acc.username, "password": PASSWORD},
                          headers={"Host": acc.host}, environ_base=ip)
    assert limited.status_code == 429 and limited.get_json()["type"] == "/problems/too-many-attempts"
    elsewhere = client.post("/reseller/auth/login", json={"username": acc.username, "password": PASSWORD},
                            headers={"Host": acc.host}, environ_base={"REMOTE_ADDR": "198.51.100.78"})
    assert elsewhere.status_code == 200

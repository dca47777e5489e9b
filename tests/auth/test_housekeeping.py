"""Old identity rows go; anything that can still matter stays."""

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select, update

from app.cli import main
from app.models import AuthSession, LoginEvent
from app.models.base import utcnow
from tenants import registry, tenant_context
from tests.auth.conftest import reseller_login


def test_purge_drops_only_what_can_no_longer_matter(app, db, accounts):
    acc = accounts()
    tokens = [reseller_login(app.test_client(), acc).get_json()["token"] for _ in range(3)]
    with db.session() as s, tenant_context(acc.tenant):
        ids = s.execute(select(AuthSession.id).order_by(AuthSession.created_at)).scalars().all()
        long_ago = utcnow() - timedelta(days=31)
        s.execute(update(AuthSession).where(AuthSession.id == ids[0]).values(revoked_at=long_ago))
        s.execute(update(AuthSession).where(AuthSession.id == ids[1]).values(revoked_at=utcnow()))
        s.execute(update(LoginEvent).where(LoginEvent.id == s.execute(select(func.min(LoginEvent.id))).scalar())
                  .values(at=utcnow() - timedelta(days=401)))
    result = CliRunner().invoke(main, ["housekeeping", "purge"], catch_exceptions=False)
    registry.bind(db.engine)
    assert result.exit_code == 0 and "removed" in result.output
    with db.session() as s, tenant_context(acc.tenant):
        left = s.execute(select(AuthSession.id)).scalars().all()
        events = s.execute(select(func.count()).select_from(LoginEvent)).scalar_one()
    assert sorted(left) == sorted(ids[1:])  # the recently ended one is kept for the record
    assert events == 2
    client = app.test_client()
    assert client.get("/reseller/auth/me", headers={"Host": acc.host,
                                                    "Authorization": f"Bearer {tokens[2]}"}).status_code == 200

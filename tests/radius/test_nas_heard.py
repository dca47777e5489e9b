"""When RADIUS last answered a NAS ("last heard" on the NAS pages): a reply counts, a dropped packet does not, and
the time is written a minute at a time (radius/heard.py; the test flushes at once instead of waiting)."""

from __future__ import annotations

from sqlalchemy import select

from app.models.base import utcnow
from app.models.nas import NasClient
from tests.radius.conftest import PASSWORD, radclient


def _heard(db):
    with db.session() as s:
        return s.execute(select(NasClient.last_heard_at).where(NasClient.network == "127.0.0.1/32")).scalar_one()


def _ask(radius_server, username: str, *, secret: str | None = None):
    pairs = f'User-Name="{username}",User-Password="{PASSWORD}",Message-Authenticator=0x00'
    return radclient(radius_server.auth_port, pairs, **({"secret": secret} if secret else {}))


def test_a_nas_is_heard_when_radius_answers_it_and_not_when_its_packet_is_dropped(db, radius_server, set_nas,
                                                                                   subscriber):
    radius_server.heard.flush()  # what earlier tests' replies noted goes to their NAS (gone now), not to this one
    set_nas()
    sub = subscriber("Active")
    assert _heard(db) is None

    dropped = _ask(radius_server, sub.username, secret="not-the-secret")  # a wrong secret: dropped unanswered
    assert dropped.code is None, dropped.output
    radius_server.heard.flush()
    assert _heard(db) is None

    before = utcnow()
    assert _ask(radius_server, sub.username).code == "Access-Accept"
    assert _heard(db) is None  # noted in memory: written by the next flush, not on the packet's path
    assert radius_server.heard.flush() == 1
    first = _heard(db)
    assert first is not None and before <= first <= utcnow()

    # a later flush never moves it backwards (another RADIUS process may write an older time)
    radius_server.heard._noted["127.0.0.1"] = first.timestamp() - 3600
    radius_server.heard.flush()
    assert _heard(db) == first

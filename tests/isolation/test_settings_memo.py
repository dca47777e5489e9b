"""A transaction reads each setting once (app/services/settings.py): what it read must stay the tenant's own,
follow what the transaction itself writes, and never outlive the transaction."""

from sqlalchemy import event

from app.services.settings import get_setting, get_settings, put_setting, zone
from tenants import tenant_context


def _counting(db):
    seen = []

    def count(conn, cursor, statement, *args):
        if "FROM settings" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", count)


def test_a_transaction_reads_a_setting_once(db, make_tenant):
    tenant = make_tenant("MEMO")
    seen, stop = _counting(db)
    try:
        with db.session() as s, tenant_context(tenant):
            for _ in range(5):
                assert str(zone(s)) == "UTC"
                assert get_settings(s, "timezone", "currency") == {"timezone": "UTC", "currency": "USD"}
    finally:
        stop()
    assert len(seen) == 2  # the time zone, then the currency: each once


def test_two_tenants_in_one_session_keep_their_own_values(db, make_tenant):
    a, b = make_tenant("MEMA"), make_tenant("MEMB")
    with db.session() as s:  # a transaction has one tenant (its search_path): a commit between them
        with tenant_context(a):
            put_setting(s, "timezone", "Africa/Nairobi")
            s.commit()
        with tenant_context(b):
            put_setting(s, "timezone", "Africa/Kampala")
            s.commit()
        for tenant, expected in ((a, "Africa/Nairobi"), (b, "Africa/Kampala"), (a, "Africa/Nairobi")):
            with tenant_context(tenant):
                assert get_setting(s, "timezone") == expected
                s.commit()


def test_a_write_reads_back_and_a_rollback_forgets_it(db, make_tenant):
    tenant = make_tenant("MEMW")
    with db.session() as s, tenant_context(tenant):
        assert get_setting(s, "currency") == "USD"
        put_setting(s, "currency", "KES")
        assert get_setting(s, "currency") == "KES"
        s.rollback()
        assert get_setting(s, "currency") == "USD"
        with s.begin_nested() as savepoint:
            put_setting(s, "currency", "UGX")
            assert get_setting(s, "currency") == "UGX"
            savepoint.rollback()
        assert get_setting(s, "currency") == "USD"


def test_a_commit_by_another_session_is_seen_by_the_next_transaction(db, make_tenant):
    tenant = make_tenant("MEMC")
    with db.session() as reader, tenant_context(tenant):
        assert get_setting(reader, "language") == "en"
        reader.commit()
        with db.session() as writer:
            put_setting(writer, "language", "sw")
            writer.commit()
        assert get_setting(reader, "language") == "sw"


def test_what_a_caller_changes_is_its_own_copy(db, make_tenant):
    tenant = make_tenant("MEMM")
    with db.session() as s, tenant_context(tenant):
        portal = get_setting(s, "portal")
        portal["title"] = "changed by the caller, never saved"
        assert get_setting(s, "portal")["title"] != portal["title"]

"""The onboarding wizard's drafts and results in Redis (app/services/onboarding_drafts.py): what a reseller's
team member typed, and the passwords generated at the end, are never there in clear text; the result is
given once; another team member's key reads nothing."""

from __future__ import annotations

import redis as redis_lib

from app.services import onboarding_drafts


def test_drafts_and_results_are_encrypted_and_a_result_is_shown_once(server_urls, make_tenant):
    demo_tenant = make_tenant("DRAFT")
    client = redis_lib.Redis.from_url(server_urls[1])
    steps = {"basic": {"first_name": "Wanjiru", "id_number": "27123456"}}
    wizard = onboarding_drafts.start(client, demo_tenant, 7, steps)
    stored = [client.get(k) for k in client.scan_iter(f"*onboarding*{wizard}*")]
    assert stored and all(b"Wanjiru" not in v and b"27123456" not in v for v in stored)
    assert onboarding_drafts.load(client, demo_tenant, 7, wizard) == steps
    assert onboarding_drafts.load(client, demo_tenant, 8, wizard) is None  # another member's key

    result = {"customer": {"portal_id": "ABC009999"}, "portal_password": "Secret#Pass-42"}
    onboarding_drafts.finish(client, demo_tenant, 7, wizard, result)
    stored = [client.get(k) for k in client.scan_iter(f"*onboarding*{wizard}*")]
    assert all(b"Secret#Pass-42" not in v for v in stored if v)
    first, _ = onboarding_drafts.take_result(client, demo_tenant, 7, wizard)
    again, shown = onboarding_drafts.take_result(client, demo_tenant, 7, wizard)
    assert first == result and again is None and shown == {"portal_id": "ABC009999"}

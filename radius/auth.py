"""Answering an Access-Request: who asks, for whom, with which password, and what the NAS is told.

The order of checks follows what an attacker may learn: a request whose Message-Authenticator is missing
(when the NAS requires one) or wrong is dropped without a word (BlastRADIUS, CVE-2024-3596); everything
after that gets a signed reply. A NAS asking about a customer of a tenant it does not serve gets the same
Reject as a wrong password, and the refusal is logged for the operator.

Passwords are the service's *network* password (never the portal's): PAP (RFC 2865 §5.2), CHAP
(RFC 1994 via RFC 2865 §5.3) and MS-CHAPv2 (RFC 2759 via RFC 2548; radius/mschap.py). MS-CHAPv1 is not
offered: such requests are rejected.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from app.models.catalogue import Plan
from radius import mschap
from radius import packet as rp
from radius.directory import MISS, Directory, ServiceRecord
from radius.nas import Nas, NasRegistry
from radius.profiles import Profile, policy, profile_for, reject
from tenants import Tenant, tenant_context

log = logging.getLogger("radius.auth")
POLICY_TTL = 30.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """The reply to send (None: drop the request) and, for logs and tests, why."""

    reply: bytes | None
    reason: str


class AccessHandler:
    def __init__(self, db, nas_registry: NasRegistry, directory: Directory, *, suspended_reseller: str = "reject"):
        self.db = db
        self.suspended_reseller = suspended_reseller  # radius/runner.py Options: "reject" or "accept"
        self.nas = nas_registry
        self.directory = directory
        self._plans: dict[int, Plan | None] = {}
        self._policies: dict[int, tuple[float, int, dict]] = {}
        self._policy_version = 0
        self._refreshing: dict[int, float] = {}  # tenants whose expired policy a lookup is reloading (since)
        self._lock = threading.Lock()
        from radius.cachebus import bus_for

        bus_for(db.engine).subscribe(self._on_notice)

    def _on_notice(self, channel: str, payload: str | None) -> None:
        """A plan changed: drop the plans and the policies too, since a cached profile is keyed by the
        policy's version, so the next reply of every subscriber is computed afresh."""
        if payload is None or payload == "plans":
            self._plans = {}
            self._policies = {}
        if payload == "tenants":
            self._policies = {}

    # -- the cached pieces ---------------------------------------------------------------------------
    def _plan(self, session: Session, plan_id: int) -> Plan | None:
        if plan_id not in self._plans:
            plan = session.get(Plan, plan_id)
            if plan is not None:
                session.expunge(plan)
            self._plans[plan_id] = plan
        return self._plans[plan_id]

    def _policy(self, session: Session, tenant: Tenant) -> tuple[int, dict]:
        hit = self._policies.get(tenant.id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1], hit[2]
        try:
            found = policy(session)
        finally:
            self._refreshing.pop(tenant.id, None)
        if hit is not None and hit[2] == found:
            version = hit[1]  # unchanged: the profiles computed under it stay good
        else:
            with self._lock:
                self._policy_version += 1
                version = self._policy_version
        self._policies[tenant.id] = (time.monotonic() + POLICY_TTL, version, found)
        return version, found

    def warm(self, tenants: list[Tenant], plan_ids: set[int]) -> None:
        """Load the tenants' policies and the plans before the first request needs them (at start)."""
        for tenant in tenants:
            with tenant_context(tenant), self.db.session() as session:
                self._policy(session, tenant)
        with tenant_context(None), self.db.session() as session:
            for plan_id in plan_ids:
                self._plan(session, plan_id)

    def _cached_policy(self, tenant_id: int, cached_only: bool):
        """The tenant's policy entry if it may be used now. Once it is past its time, one `cached_only`
        caller is refused (it goes to the lookup pool and reloads it) while the others go on with it: a
        policy at most a moment staler, rather than a burst of reloads of the same row."""
        hit = self._policies.get(tenant_id)
        now = time.monotonic()
        if hit is None or hit[0] > now:
            return hit
        if cached_only and self._refreshing.get(tenant_id, float("-inf")) > now - 5.0:
            return hit
        if cached_only:
            self._refreshing[tenant_id] = now  # a claim that lapses after 5 s, should that reload never run
        return None

    def _reply_for(self, tenant: Tenant, record: ServiceRecord, nas: Nas, cached_only: bool = False):
        """(code, encoded attributes) for the record on this vendor, computed once per policy version
        (MISS when `cached_only` and that needs the database)."""
        policy_hit = self._cached_policy(tenant.id, cached_only)
        if policy_hit is not None:
            cached = record.profiles.get(nas.vendor)
            if cached is not None and cached[0] == policy_hit[1]:
                return cached[1]
        plan = self._plans.get(record.plan_id, MISS)
        if policy_hit is not None and plan is not MISS:
            version, settings = policy_hit[1], policy_hit[2]  # all at hand: no transaction at all
        elif cached_only:
            return MISS
        else:
            with tenant_context(tenant), self.db.session() as session:
                version, settings = self._policy(session, tenant)
                plan = self._plan(session, record.plan_id)
        profile = profile_for(None, record, plan, nas, settings)
        encoded = encode_profile(profile)
        record.profiles[nas.vendor] = (version, encoded)
        return encoded

    # -- the request ---------------------------------------------------------------------------------
    def handle(self, nas: Nas, request: rp.Packet, *, cached_only: bool = False) -> Outcome | object:
        """The outcome for `request`; with `cached_only`, MISS when answering needs the database (the
        server then asks again from its lookup pool, without `cached_only`)."""
        if request.ma_offset is not None:
            if not rp.message_authenticator_ok(request, nas.secret):
                return Outcome(None, "wrong Message-Authenticator")
        elif nas.require_message_authenticator:
            return Outcome(None, "no Message-Authenticator")
        proxy_states = request.all(rp.PROXY_STATE)

        def answer(code: int, attributes: bytes, reason: str) -> Outcome:
            return Outcome(rp.sign_reply(code, request.id, request.authenticator, attributes, nas.secret,
                                         proxy_states=proxy_states), reason)

        def refuse(reason: str) -> Outcome:
            return answer(*_rejection(), reason)

        user_name = request.string(rp.USER_NAME)
        if not user_name:
            return refuse("no User-Name")
        subscriber = self.directory.resolve(user_name, cached_only=cached_only)
        if subscriber is MISS:
            return MISS
        if subscriber is None:
            return refuse("unknown user")
        if not self.nas.may_serve(nas, subscriber.tenant.id):
            log.warning("NAS %s (%s, tenant %s) asked about %s of tenant %s, which it does not serve: rejected",
                        nas.name, nas.network, nas.tenant_id, subscriber.portal_id, subscriber.tenant.code)
            return refuse("NAS does not serve this tenant")
        record = self.directory.service(subscriber, cached_only=cached_only)
        if record is MISS:
            return MISS
        if record is None or record.password is None:
            return refuse("no service with credentials")
        verdict, extra = check_password(request, nas.secret, record.password, user_name)
        if verdict is not True:
            return answer(rp.ACCESS_REJECT, _rejection()[1] + extra, verdict)
        if self.suspended_reseller == "reject":  # told only to who knows the password, like a service's status
            blocker = self.directory.blocking(subscriber.tenant, cached_only=cached_only)
            if blocker is MISS:
                return MISS
            if blocker is not None:
                log.info("%s of tenant %s: reseller %s is %s, rejected by the platform's policy",
                         subscriber.portal_id, subscriber.tenant.code, blocker.code, blocker.status.lower())
                return answer(*encode_profile(reject("reseller")), f"reseller {blocker.code} "
                              f"{blocker.status.lower()}")
        reply = self._reply_for(subscriber.tenant, record, nas, cached_only)
        if reply is MISS:
            return MISS
        code, attributes = reply
        if code != rp.ACCESS_ACCEPT:
            return answer(code, attributes, f"status {record.status}")
        return answer(code, attributes + extra, "accepted")


@cache
def _rejection() -> tuple[int, bytes]:
    """One Reject for unknown users, wrong passwords and foreign NAS alike: nothing to tell them apart by."""
    return encode_profile(reject("unknown"))


def encode_profile(profile: Profile) -> tuple[int, bytes]:
    attrs = dict(profile.attributes)
    if profile.reply_message:
        attrs["Reply-Message"] = [profile.reply_message]
    return (rp.ACCESS_ACCEPT if profile.accept else rp.ACCESS_REJECT), rp.encode_attributes(attrs)


def check_password(request: rp.Packet, secret: bytes, password: str, user_name: str) -> tuple[bool | str, bytes]:
    """(True, attributes for the Accept) when the request proves the password (PAP, CHAP or MS-CHAPv2);
    else (why not, attributes for the Reject)."""
    expected = password.encode("utf-8")
    pap = request.get(rp.USER_PASSWORD)
    if pap is not None:
        try:
            given = rp.decrypt_password(pap, secret, request.authenticator)
        except rp.Malformed:
            return "malformed User-Password", b""
        return (True if hmac.compare_digest(given, expected) else "wrong password (PAP)"), b""
    chap = request.get(rp.CHAP_PASSWORD)
    if chap is not None:
        if len(chap) != 17:
            return "malformed CHAP-Password", b""
        challenge = request.get(rp.CHAP_CHALLENGE) or request.authenticator
        digest = hashlib.md5(chap[:1] + expected + challenge).digest()  # noqa: S324 - CHAP is MD5 (RFC 1994)
        return (True if hmac.compare_digest(digest, chap[1:]) else "wrong password (CHAP)"), b""
    responses = request.vendor(mschap.MICROSOFT, mschap.MS_CHAP2_RESPONSE)
    challenges = request.vendor(mschap.MICROSOFT, mschap.MS_CHAP_CHALLENGE)
    if responses and challenges:
        success = mschap.verify(user_name, password, challenges[0], responses[0])
        if success is None:
            return "wrong password (MS-CHAPv2)", mschap.vsa(mschap.MS_CHAP_ERROR, mschap.failure(responses[0]))
        return True, mschap.vsa(mschap.MS_CHAP2_SUCCESS, success)
    return "no PAP, CHAP or MS-CHAPv2 credentials", b""

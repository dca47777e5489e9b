"""What a NAS is told about a service: accept or reject, and with which attributes.

The answer depends on the service's status, its plan, the NAS's vendor and the reseller's RADIUS policy:
- Active: the plan's rate (and burst) in the vendor's attributes, Framed-IP-Address when the service
  holds a static address, Session-Timeout and Acct-Interim-Interval from the policy.
- Limited: the same at the plan's `limited_*_kbps`, and for MikroTik the payment-page address list.
- Suspended: per policy, Reject, or Accept into the payment-page profile (the address list on MikroTik,
  the payment-page pool elsewhere, at the payment-page rate).
- Pending, Terminated, or anything else: Reject with a Reply-Message.

The CoA sender uses the same function, so that what a NAS is told on a change is what it would be told
on the next sign-in.

Reseller policy: the tenant setting `radius` (a JSON object; absent keys take these defaults):
- `session_timeout` (seconds, 0 for none; default 0)
- `interim_interval` (seconds between Interim-Updates the NAS is asked for; default 900: the usage
  figures are "updated every 15 minutes")
- `suspended_action`: `reject` (default) or `payment_page`
- `payment_page_address_list`: the MikroTik address list that the router's firewall sends to the
  payment page (default `backhaul-payment-page`)
- `payment_page_pool`: an address pool name sent as Framed-Pool (non-MikroTik) in the payment-page
  profile (default none)
- `payment_page_rate_kbps`: {"download": 512, "upload": 256}, the rate in the payment-page profile
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from app.services.settings import get_setting

DEFAULT_POLICY = {
    "session_timeout": 0,
    "interim_interval": 900,  # "RADIUS accounting every 15 minutes" (Usage Data Accuracy)
    "suspended_action": "reject",
    "payment_page_address_list": "backhaul-payment-page",
    "payment_page_pool": None,
    "payment_page_rate_kbps": {"download": 512, "upload": 256},
}
SUSPENDED_ACTIONS = ("reject", "payment_page")
MESSAGES = {
    "Pending": "Your service is not active yet",
    "Terminated": "Your service has ended",
    "Suspended": "Your service is suspended; please contact your provider or pay your account",
    "unknown": "Unknown user or wrong password",
    "reseller": "Your provider's service is suspended; please contact your provider",
}


@dataclass(frozen=True)
class Profile:
    accept: bool
    attributes: dict[str, list] = field(default_factory=dict)
    reply_message: str | None = None


def policy(session) -> dict:
    """The current tenant's RADIUS policy, defaults filled in (a tenant never set one: all defaults)."""
    stored = get_setting(session, "radius")
    return clean_policy(stored if isinstance(stored, dict) else {})


def _seconds(value, default: int) -> int:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return default
    return seconds if 0 <= seconds <= 2**31 - 1 else default


def _name(value) -> str | None:
    return value.strip()[:200] if isinstance(value, str) and value.strip() else None


def clean_policy(stored: dict) -> dict:
    """The policy with every value usable: a value of the wrong kind falls back to its default, so that a
    bad setting costs that setting, never the tenant's sign-ins."""
    out = copy.deepcopy(DEFAULT_POLICY)
    out["session_timeout"] = _seconds(stored.get("session_timeout", 0), 0)
    out["interim_interval"] = _seconds(stored.get("interim_interval", DEFAULT_POLICY["interim_interval"]),
                                       DEFAULT_POLICY["interim_interval"])
    if stored.get("suspended_action") in SUSPENDED_ACTIONS:
        out["suspended_action"] = stored["suspended_action"]
    if "payment_page_address_list" in stored:
        out["payment_page_address_list"] = _name(stored["payment_page_address_list"])
    out["payment_page_pool"] = _name(stored.get("payment_page_pool"))
    rate = stored.get("payment_page_rate_kbps")
    if isinstance(rate, dict):
        out["payment_page_rate_kbps"] = {
            k: _seconds(rate.get(k), DEFAULT_POLICY["payment_page_rate_kbps"][k]) for k in ("download", "upload")}
    return out


def reject(reason: str) -> Profile:
    return Profile(False, {}, MESSAGES.get(reason, MESSAGES["unknown"]))


def _mikrotik_rate(upload: int, download: int, plan=None) -> str:
    """`rx/tx [burst-rx/burst-tx threshold-rx/threshold-tx time-rx/time-tx]`: the router receives the
    subscriber's upload and transmits its download, so upload comes first."""
    rate = f"{upload}k/{download}k"
    if plan is None:
        return rate
    burst = (plan.burst_upload_kbps, plan.burst_download_kbps)
    threshold = (plan.burst_threshold_upload_kbps, plan.burst_threshold_download_kbps)
    if all(burst) and all(threshold) and plan.burst_time_seconds:
        t = plan.burst_time_seconds
        rate += f" {burst[0]}k/{burst[1]}k {threshold[0]}k/{threshold[1]}k {t}/{t}"
    return rate


def _cisco_rate(upload: int, download: int) -> list[str]:
    """IOS per-session policing (the classic `lcp:interface-config` rate-limit), bursts of 1.5 s."""
    pairs = []
    for i, (direction, kbps) in enumerate((("input", upload), ("output", download)), start=1):
        bps = kbps * 1000
        normal = max(8000, bps * 3 // 16)  # 1.5 s of traffic, in bytes
        pairs.append(f"lcp:interface-config#{i}=rate-limit {direction} {bps} {normal} {normal * 2} "
                     "conform-action transmit exceed-action drop")
    return pairs


def _rate_attributes(vendor: str, upload: int | None, download: int | None, plan=None) -> dict[str, list]:
    if not upload or not download:
        return {}
    if vendor == "mikrotik":
        return {"Mikrotik-Rate-Limit": [_mikrotik_rate(upload, download, plan)]}
    if vendor == "cisco":
        return {"Cisco-AVPair": _cisco_rate(upload, download)}
    return {}


def _common(service, settings: dict) -> dict[str, list]:
    attrs: dict[str, list] = {"Service-Type": ["Framed-User"], "Framed-Protocol": ["PPP"]}
    if getattr(service, "static_ip", None):
        attrs["Framed-IP-Address"] = [str(service.static_ip)]
    if int(settings.get("session_timeout") or 0) > 0:
        attrs["Session-Timeout"] = [int(settings["session_timeout"])]
    if int(settings.get("interim_interval") or 0) > 0:
        attrs["Acct-Interim-Interval"] = [int(settings["interim_interval"])]
    return attrs


def _payment_page(vendor: str, attrs: dict, settings: dict) -> None:
    if vendor == "mikrotik" and settings.get("payment_page_address_list"):
        attrs["Mikrotik-Address-List"] = [str(settings["payment_page_address_list"])]
    elif vendor != "mikrotik" and settings.get("payment_page_pool"):
        attrs["Framed-Pool"] = [str(settings["payment_page_pool"])]


def profile_for(session, service, plan, nas, settings: dict | None = None) -> Profile:
    """The reply for `service` (an ORM Service or anything with `status` and `static_ip`) on `plan`, for
    `nas` (anything with `vendor`). `settings` is the tenant's policy (`policy(session)`); loaded from the
    session, in the current tenant, when not given."""
    if settings is None:
        settings = policy(session)
    vendor = getattr(nas, "vendor", "generic")
    status = getattr(service, "status", None)
    if status == "Active" and plan is not None:
        attrs = _common(service, settings)
        attrs.update(_rate_attributes(vendor, plan.upload_kbps, plan.download_kbps, plan))
        return Profile(True, attrs)
    if status == "Limited" and plan is not None:
        attrs = _common(service, settings)
        upload = plan.limited_upload_kbps or plan.upload_kbps
        download = plan.limited_download_kbps or plan.download_kbps
        attrs.update(_rate_attributes(vendor, upload, download))
        _payment_page(vendor, attrs, settings)
        return Profile(True, attrs)
    if status == "Suspended" and settings.get("suspended_action") == "payment_page":
        attrs = _common(service, settings)
        rate = settings.get("payment_page_rate_kbps") or {}
        attrs.update(_rate_attributes(vendor, rate.get("upload"), rate.get("download")))
        _payment_page(vendor, attrs, settings)
        return Profile(True, attrs)
    return reject(status if status in MESSAGES else "unknown")

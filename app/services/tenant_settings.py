"""A reseller's settings, read and changed as one document: the one place that says what each setting may be,
so that the settings API (app/api/tenant_settings) and the reseller portal's Settings pages refuse the same
bad values with the same words.

Every setting of `app.services.settings.default_settings` is here, plus the RADIUS policy, each by a dotted
path (`billing.payment_terms_days`). Where a setting already has a rule, that rule is used, never restated:
number formats are `numbering.validate_format`'s, the editable profile fields `portal_rules`' choices (and
they are stored by `portal_rules.set_rules`, which records its own audit event), the billing modes
`cycles.MODES`, the dunning policy is `dunning.validate`'s and is stored by `dunning.put_policy` (as its
API stores it), the RADIUS policy is stored the way its own API stores it (`clean_policy`, every key
explicit). What had no rule before gets one here: the Portal ID's prefix (letters, as Portal IDs are
upper-case letters then digits) and its digits, the time zone (one the zone database knows), the currency
(a code of ISO 4217 as Babel lists them), the language (one the portals are translated into).

Every value is checked before anything is stored: a change with one bad value stores nothing, and the error
names each bad value by its path, with a message written to be read by a person (the portal shows it next
to its field; the API returns it in `errors`). The messages are msgids (themes/base/translations).
"""

from __future__ import annotations

import copy
import re
from zoneinfo import available_timezones

from babel.numbers import list_currencies
from sqlalchemy.orm import Session

from app.services import audit
from app.services.auth.principal import Principal
from app.services.billing import cycles, dunning, numbering
from app.services.branding import i18n
from app.services.errors import Invalid
from app.services.selfcare import portal_rules
from app.services.settings import default_settings, get_settings, put_setting
from app.services.usage import config as usage_config
from radius.profiles import SUSPENDED_ACTIONS, clean_policy
from tenants import require_tenant

SERIES_FORMATS = ("invoice_format", "proforma_format", "credit_note_format", "receipt_format")
PREFIX = re.compile(r"^[A-Z]{1,6}$")
DIGITS = (4, 12)
PAYMENT_TERMS = (0, 365)
RETRY_DAYS = (1, 365)
MAX_RETRIES = 10
TITLE_MAX = 200
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{3,30}$")
# the RADIUS policy's bounds, as its API (app/api/usage/schemas.py PolicyIn) states them
SESSION_TIMEOUT = (0, 2**31 - 1)
INTERIM = (60, 86400)
STALE = (1, 100)
RETENTION = (1, 3650)
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$")

KEYS = ("portal_id_format", "timezone", "currency", "language", "portal", "customers", "billing", "dunning",
        "payments", "radius")
DUNNING = tuple(dunning.Policy.__dataclass_fields__)

# the message of each refusal (msgids), by what is wrong
M = {
    "prefix": "The Portal ID prefix is 1 to 6 letters (A to Z), such as ABC.",
    "digits": "The number of digits is a whole number from 4 to 12.",
    "timezone": "Choose a time zone the world's time zone database knows, such as Africa/Nairobi.",
    "currency": "The currency is a three-letter ISO 4217 code, such as KES.",
    "language": "Choose one of the languages the portals are translated into.",
    "title": "The portal title is 1 to 200 characters.",
    "email": "Enter an e-mail address such as support@example.com, or leave it empty.",
    "phone": "Enter a phone number of digits (a leading + and spaces are fine), or leave it empty.",
    "boolean": "Choose yes or no.",
    "editable": "Customers may only be let to change their phone numbers, address, location, M-PESA number and "
                "how they are reached.",
    "terms": "Payment terms are a whole number of days from 0 to 365.",
    "mode": "Billing is prepaid or postpaid.",
    "retry": "Retry days are up to 10 whole numbers of days from 1 to 365, such as 1, 3, 7, 14.",
    "session_timeout": "The session timeout is a whole number of seconds, 0 for none.",
    "interim": "The interim interval is a whole number of seconds from 60 to 86400.",
    "stale": "Missed interim updates: a whole number from 1 to 100.",
    "retention": "Closed sessions are kept a whole number of days from 1 to 3650.",
    "suspended_action": "A suspended customer is either refused or sent to the payment page.",
    "name": "A name of 1 to 200 printable characters, not starting with a space, or leave it empty.",
    "unknown": "There is no such setting.",
    "object": "A group of settings is an object of its settings.",
}


class SettingsRefused(Invalid):
    """Some of the values asked for are not allowed; `errors` maps each one's path to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors.items()),
                         field=next(iter(errors)), errors={path: [message] for path, message in errors.items()})
        self.by_path = dict(errors)


# -- reading --------------------------------------------------------------------------------------------------

def current(session: Session) -> dict:
    """Every setting of the tenant, each key present (defaults for what it has not set), in the shape the API
    answers and the pages fill their forms from."""
    found = get_settings(session, *KEYS)
    portal = found["portal"] or {}
    rules = portal_rules.rules(session)
    radius = clean_policy(found["radius"] if isinstance(found["radius"], dict) else {})
    usage = usage_config.radius_settings(session)
    billing = {**_billing_defaults(), **(found["billing"] or {})}
    return {
        "portal_id_format": {"prefix": found["portal_id_format"]["prefix"],
                             "digits": int(found["portal_id_format"]["digits"])},
        "timezone": found["timezone"] or "UTC",
        "currency": (found["currency"] or "USD").upper(),
        "language": found["language"] or "en",
        "portal": {"title": portal.get("title") or "", "support_email": portal.get("support_email"),
                   "support_phone": portal.get("support_phone"), **rules},
        "customers": {"require_approval": bool((found["customers"] or {}).get("require_approval")),
                      "login_with_email": bool((found["customers"] or {}).get("login_with_email"))},
        "billing": {**{k: billing[k] for k in SERIES_FORMATS}, "payment_terms_days": int(billing["payment_terms_days"]),
                    "prices_include_tax": bool(billing["prices_include_tax"]), "mode": billing["mode"]},
        "dunning": dunning.policy(session).as_setting(),
        "payments": {"retry_days": _retry_days_of(found["payments"])},
        "radius": {"session_timeout": radius["session_timeout"], "interim_interval": radius["interim_interval"],
                   "stale_after_intervals": usage["stale_after_intervals"],
                   "session_retention_days": usage["session_retention_days"],
                   "suspended_action": radius["suspended_action"],
                   "payment_page_address_list": radius["payment_page_address_list"],
                   "payment_page_pool": radius["payment_page_pool"]},
    }


def _billing_defaults() -> dict:
    return dict(default_settings("CUS", "")["billing"])


def _retry_days_of(payments) -> list[int]:
    value = (payments or {}).get("retry_days")
    clean = _retry_days(value) if value else None
    return clean if clean is not None else [1, 3, 7, 14]


def time_zones() -> list[str]:
    return sorted(available_timezones())


def currencies() -> list[str]:
    return sorted(c for c in list_currencies() if len(c) == 3 and c.isalpha())


def languages() -> list[str]:
    return i18n.languages()


# -- the rule of each setting: a clean value, or None when it is not allowed ----------------------------------

def _whole(value, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,12}\s*", value):
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def _boolean(value) -> bool | None:
    return value if isinstance(value, bool) else None


def _prefix(value) -> str | None:
    value = value.strip().upper() if isinstance(value, str) else None
    return value if value and PREFIX.fullmatch(value) else None


def _timezone(value) -> str | None:
    value = value.strip() if isinstance(value, str) else None
    return value if value and value in available_timezones() else None


def _currency(value) -> str | None:
    value = value.strip().upper() if isinstance(value, str) else None
    return value if value and value in set(currencies()) else None


def _language(value) -> str | None:
    value = value.strip().lower() if isinstance(value, str) else None
    return value if value in languages() else None


def _title(value) -> str | None:
    value = " ".join(value.split()) if isinstance(value, str) else None
    return value if value and len(value) <= TITLE_MAX else None


_EMPTY = object()  # an optional value left empty: stored as null


def _optional(check):
    def clean(value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return _EMPTY
        return check(value)
    return clean


def _email(value) -> str | None:
    value = value.strip().lower() if isinstance(value, str) else ""
    local, at, domain = value.partition("@")
    return value if at and local and "." in domain and len(value) <= 254 and " " not in value else None


def _phone(value) -> str | None:
    value = " ".join(value.split()) if isinstance(value, str) else ""
    return value if PHONE.fullmatch(value) else None


def _editable(value) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return value if set(value) <= set(portal_rules.EDITABLE_CHOICES) else None


def _format(value) -> str | None:
    try:
        return numbering.validate_format(value.strip() if isinstance(value, str) else value)
    except Invalid:
        return None


def _mode(value) -> str | None:
    return value if value in cycles.MODES else None


def _retry_days(value) -> list[int] | None:
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
    elif isinstance(value, list):
        parts = value
    else:
        return None
    days = [_whole(p, *RETRY_DAYS) for p in parts]
    if not days or len(days) > MAX_RETRIES or any(d is None for d in days):
        return None
    return sorted(set(days))


def _name(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= 200 and _PRINTABLE.fullmatch(value) else None


def _as_typed(value):
    """A dunning value as typed into a form, made the JSON `dunning.validate` reads (whole numbers from digits,
    lists of days from `1, 3, 7`, an empty field as null); anything else is passed on as it is, for
    `dunning.validate` to judge."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return _EMPTY
        if re.fullmatch(r"[0-9]{1,6}", text):
            return int(text)
        if re.fullmatch(r"[0-9]{1,6}([,\s]+[0-9]{1,6})+", text):
            return [int(p) for p in re.split(r"[,\s]+", text)]
        return text
    return _EMPTY if value is None else value


def _choice(choices):
    return lambda value: value if value in choices else None


RULES: dict[str, tuple] = {
    "portal_id_format.prefix": (_prefix, "prefix"),
    "portal_id_format.digits": (lambda v: _whole(v, *DIGITS), "digits"),
    "timezone": (_timezone, "timezone"),
    "currency": (_currency, "currency"),
    "language": (_language, "language"),
    "portal.title": (_title, "title"),
    "portal.support_email": (_optional(_email), "email"),
    "portal.support_phone": (_optional(_phone), "phone"),
    "portal.editable_fields": (_editable, "editable"),
    "portal.contacts_editable": (_boolean, "boolean"),
    "customers.require_approval": (_boolean, "boolean"),
    "customers.login_with_email": (_boolean, "boolean"),
    **{f"billing.{key}": (_format, None) for key in SERIES_FORMATS},
    "billing.payment_terms_days": (lambda v: _whole(v, *PAYMENT_TERMS), "terms"),
    "billing.prices_include_tax": (_boolean, "boolean"),
    "billing.mode": (_mode, "mode"),
    "payments.retry_days": (_retry_days, "retry"),
    **{f"dunning.{key}": (_as_typed, None) for key in DUNNING},
    "radius.session_timeout": (lambda v: _whole(v, *SESSION_TIMEOUT), "session_timeout"),
    "radius.interim_interval": (lambda v: _whole(v, *INTERIM), "interim"),
    "radius.stale_after_intervals": (lambda v: _whole(v, *STALE), "stale"),
    "radius.session_retention_days": (lambda v: _whole(v, *RETENTION), "retention"),
    "radius.suspended_action": (_choice(SUSPENDED_ACTIONS), "suspended_action"),
    "radius.payment_page_address_list": (_optional(_name), "name"),
    "radius.payment_page_pool": (_optional(_name), "name"),
}
GROUPS = {path.split(".")[0] for path in RULES if "." in path}


def _format_message(value) -> str:
    """numbering's own words for what is wrong with a number format."""
    try:
        numbering.validate_format(value)
    except Invalid as exc:
        return exc.detail
    return M["unknown"]


def flatten(changes: dict) -> dict:
    """`{"billing": {"mode": …}}` as `{"billing.mode": …}`; a group that is not an object, or a name that is
    no setting, is refused by its path."""
    flat, errors = {}, {}
    for key, value in (changes or {}).items():
        if key in GROUPS:
            if not isinstance(value, dict):
                errors[key] = M["object"]
                continue
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner
        else:
            flat[key] = value
    for path in flat:
        if path not in RULES:
            errors[path] = M["unknown"]
    if errors:
        raise SettingsRefused(errors)
    return flat


def clean(changes: dict, dunning_now: dict | None = None) -> dict:
    """The changes (flat, by path) with every value cleaned, or SettingsRefused naming each bad one. The
    dunning policy is judged whole, as `dunning.validate` judges it: its changes over `dunning_now` (the
    policy as it is)."""
    out, errors = {}, {}
    for path, value in changes.items():
        if path not in RULES:
            errors[path] = M["unknown"]
            continue
        check, message = RULES[path]
        found = check(value)
        if found is None:
            errors[path] = M[message] if message else _format_message(value)
        else:
            out[path] = None if found is _EMPTY else found
    asked = {path.partition(".")[2]: out.pop(path) for path in list(out) if path.startswith("dunning.")}
    if asked:
        if isinstance(asked.get("reminder_days"), int):  # one day typed alone
            asked["reminder_days"] = [asked["reminder_days"]]
        if isinstance(asked.get("channels"), str):
            asked["channels"] = [asked["channels"]]
        try:
            out["dunning"] = dunning.validate({**(dunning_now or {}), **asked}).as_setting()
        except Invalid as exc:
            key = exc.extra.get("field")
            errors[f"dunning.{key}" if key in DUNNING else "dunning"] = exc.detail  # its own words, as its API
    if errors:
        raise SettingsRefused(errors)
    return out


# -- changing -------------------------------------------------------------------------------------------------

def update(session: Session, changes: dict, *, principal: Principal) -> dict:
    """Change some settings (nested as `current` gives them, or flat by path); what is left out stays. All or
    nothing: one bad value and nothing is stored. Returns every setting as it is now."""
    actor = principal.actor
    flat = clean(flatten(changes), dunning.policy(session).as_setting())
    if not flat:
        return current(session)
    changed = copy.deepcopy(flat)
    if "dunning" in flat:
        dunning.put_policy(session, flat.pop("dunning"), principal=principal)
    stored = get_settings(session, *KEYS)
    grouped: dict[str, dict] = {}
    for path, value in flat.items():
        group, _, name = path.partition(".")
        if name:
            grouped.setdefault(group, {})[name] = value
        else:
            put_setting(session, group, value)
    rules = {k: grouped.get("portal", {}).pop(k) for k in ("editable_fields", "contacts_editable")
             if k in grouped.get("portal", {})}
    for group, values in grouped.items():
        if group == "radius":
            _put_radius(session, stored["radius"], values)
        elif values:
            put_setting(session, group, {**copy.deepcopy(stored[group] or {}), **values})
    if rules:
        portal_rules.set_rules(session, actor=actor, **rules)
    audit.record(session, actor, "settings.update", require_tenant().id, changed=changed)
    return current(session)


def _put_radius(session: Session, stored, values: dict) -> None:
    """Stored as the RADIUS policy's API stores it: every key explicit, so the RADIUS server and the session
    upkeep read the same interim interval."""
    before = stored if isinstance(stored, dict) else {}
    merged = {**before, **values}
    policy = clean_policy(merged)
    for key in ("stale_after_intervals", "session_retention_days"):
        policy[key] = merged.get(key, usage_config.DEFAULTS[key])
    put_setting(session, "radius", policy)

"""Where the gateways' APIs are: an operator's setting, read from the environment, never a reseller's.

A reseller chooses only which of Safaricom's two environments its Daraja app lives in (`sandbox` or
`production`); the addresses themselves come from here, so no reseller can point our web or worker
processes at an address of its choosing (a request to an internal service made on its behalf). Tests, and
an operator who runs a Daraja simulator, set them:

| variable | default |
| --- | --- |
| BACKHAUL_DARAJA_SANDBOX_URL | https://sandbox.safaricom.co.ke |
| BACKHAUL_DARAJA_PRODUCTION_URL | https://api.safaricom.co.ke |
| BACKHAUL_STRIPE_API_BASE | https://api.stripe.com (the card processor; also read by the retry worker) |
"""

from __future__ import annotations

import os

DARAJA = {
    "sandbox": ("BACKHAUL_DARAJA_SANDBOX_URL", "https://sandbox.safaricom.co.ke"),
    "production": ("BACKHAUL_DARAJA_PRODUCTION_URL", "https://api.safaricom.co.ke"),
}
ENVIRONMENTS = tuple(DARAJA)


def _http(url: str, name: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ConnectionError(f"{name} is not an http(s) URL")
    return url


def daraja_base(environment: str) -> str:
    variable, default = DARAJA[environment]
    return _http(os.environ.get(variable) or default, variable)


def stripe_api_base() -> str:
    return _http(os.environ.get("BACKHAUL_STRIPE_API_BASE") or "https://api.stripe.com", "BACKHAUL_STRIPE_API_BASE")

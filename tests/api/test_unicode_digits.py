"""Digits that are not ASCII ('²', '٣', '１') pass `str.isdigit()` yet `int()` or `hmac.compare_digest` refuse
them: wherever a token, a code or a signature is read, such input is refused as malformed, never a 500."""

from __future__ import annotations

import pyotp
import pytest

from app.services.auth import totp
from app.services.billing.gateways import events, stripe
from app.web.auth import RESOLVERS
from tests.api.test_bad_input import hostile  # noqa: F401  (fixture)

ODD_DIGITS = ("²", "٣", "１")


@pytest.mark.parametrize("digit", ODD_DIGITS)
def test_a_bearer_token_naming_its_tenant_with_odd_digits_is_not_signed_in(hostile, digit):  # noqa: F811
    client = hostile.app.test_client()
    for prefix in sorted(RESOLVERS):
        token = f"{prefix}.{digit}.{'a' * 40}"
        for path, host in (("/portal/api/activity", hostile.host), ("/reseller/api/customers", hostile.host),
                           ("/console/api/tenants", hostile.console)):
            reply = client.get(path, headers={"Host": host, "Authorization": f"Bearer {token}"})
            assert reply.status_code == 401, (prefix, path, reply.status_code)


@pytest.mark.parametrize("code", ["１２３４５６", "²²²²²²", "١٢٣٤٥٦"])
def test_a_two_factor_code_of_odd_digits_is_simply_wrong(code):
    assert totp._matching_step(pyotp.random_base32(), code, 1_800_000_000.0) is None


@pytest.mark.parametrize("header", ["t=²,v1=abcdef", "t=1800000000,v1=é" + "0" * 63, "t=١٨٠٠٠٠٠٠٠٠,v1=00"])
def test_a_stripe_signature_with_odd_characters_is_invalid(header):
    with pytest.raises(events.SignatureInvalid):
        stripe.verify(b"{}", header, "whsec_test", now=1_800_000_000.0)


@pytest.mark.parametrize("token", ["é" * 30, "²" * 30])
def test_an_mpesa_callback_on_an_odd_token_is_refused(hostile, token):  # noqa: F811
    client = hostile.app.test_client()
    for kind in ("stk", "c2b"):
        reply = client.post(f"/webhooks/mpesa/{token}/{kind}", json={"Body": {}}, headers={"Host": hostile.host})
        assert 400 <= reply.status_code < 500, (kind, reply.status_code)


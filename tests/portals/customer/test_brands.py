"""Each demo reseller's portal in its own brand, in a real browser: ABC Internet, ABC East Connect (a
sub-reseller that inherits ABC's name and logo and sets its own colour) and XYZ Networks (the savanna theme);
a demo customer of each signs in and sees their own reseller's name, logo and colours."""

from __future__ import annotations

import pytest

from tests.portals.rig import drawn
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
BRANDS = [  # (reseller, host, name in the header, the header's colour, logo shown, savanna's stylesheet)
    ("ABC_ISP", "abc.test.example", "ABC Internet Services", "rgb(0, 102, 204)", True, False),
    ("ABC_EAST", "east.abc.test.example", "ABC Internet Services", "rgb(15, 118, 110)", True, False),
    ("XYZ_NET", "xyz.test.example", "XYZ Networks", "rgb(107, 33, 168)", True, True),
]


@pytest.mark.parametrize(("code", "host", "name", "colour", "logo", "savanna"), BRANDS)
def test_a_customer_sees_their_resellers_brand(page, live_server, look, demo, code, host, name, colour, logo,
                                               savanna):
    portal_id = demo[code]["customers"][0][0]
    sign_in(page, live_server, host, portal_id)
    header = page.locator("header.bar")
    assert header.locator(".brand").inner_text() == name
    assert header.evaluate("h => getComputedStyle(h).backgroundColor") == colour
    if logo:
        assert drawn(header.locator("img.logo"))
    assert (page.locator("link[href$='/savanna.css']").count() == 1) is savanna
    assert page.title().endswith(name)
    look(page, f"dashboard-{code}")

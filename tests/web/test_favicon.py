"""/favicon.ico, which browsers ask every host for: the brand's favicon, else the platform's default."""

import io

from PIL import Image

from tenants.themes import BASE


def _favicon(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, format="PNG")
    return out.getvalue()


def _upload(client, reseller, data: bytes) -> dict:
    got = client.post("/reseller/api/branding/favicon", headers=reseller.headers,
                      data={"file": (io.BytesIO(data), "favicon.png")}, content_type="multipart/form-data")
    assert got.status_code == 200, got.get_json()
    return got.get_json()["branding"]["favicon"]


def test_each_host_serves_its_brands_favicon(client, reseller):
    a, b = reseller("FAVA"), reseller("FAVB")
    mine = {r.host: _upload(client, r, _favicon(colour)) for r, colour in ((a, (200, 0, 0)), (b, (0, 0, 200)))}
    assert mine[a.host]["file"] != mine[b.host]["file"]
    for r in (a, b):
        served = client.get("/favicon.ico", headers={"Host": r.host})
        assert served.status_code == 200
        assert served.mimetype == "image/png"
        assert served.data == client.get(mine[r.host]["url"], headers={"Host": r.host}).data
        assert "max-age" in served.headers["Cache-Control"] and "immutable" not in served.headers["Cache-Control"]
        assert served.headers["ETag"]
        again = client.get("/favicon.ico", headers={"Host": r.host, "If-None-Match": served.headers["ETag"]})
        assert again.status_code == 304


def test_without_a_favicon_of_its_own_a_host_gets_the_platforms(client, reseller):
    default = (BASE / "static" / "favicon.ico").read_bytes()
    plain = reseller("FAVC")
    for host in (plain.host, "console.test.example"):
        served = client.get("/favicon.ico", headers={"Host": host})
        assert served.status_code == 200, host
        assert served.data == default and served.mimetype in ("image/x-icon", "image/vnd.microsoft.icon")
        assert "max-age" in served.headers["Cache-Control"]


def test_an_unknown_host_still_gets_no_favicon(client):
    assert client.get("/favicon.ico", headers={"Host": "nobody.example"}).status_code == 404

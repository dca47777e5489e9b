"""Bodies are capped by the kind of route before they are read (app/web/limits.py): 413 problem+json.

With the test client, a body stream that counts what is read of it shows that a body declared too big is
refused unread, at each route kind's limit; on a real socket (werkzeug's server in a thread, the app's
`wsgi.input` counted), a 20 MB body is answered 413 before it is sent, and a chunked one (no
Content-Length) is cut off at the limit.
"""

from __future__ import annotations

import io
import json
import select
import socket
import threading
import time

import pytest

from app.services.branding import assets, theme_upload
from app.services.commissions import disputes
from app.services.customers import BULK_MAX
from app.web import limits
from tests.api.test_bad_input import API, PROBLEM, hostile  # noqa: F401  (the module's signed-in accounts)

MiB = 1024 * 1024


class Body(io.RawIOBase):
    """`size` bytes made as they are read (`head`, then `byte` over and over, then `tail`), counting how many
    were."""

    def __init__(self, size: int, byte: bytes = b" ", head: bytes = b"", tail: bytes = b""):
        self.size, self.byte, self.head, self.tail, self.read_bytes = size, byte, head, tail, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        start = self.read_bytes
        end = min(self.size, start + len(buffer))
        filler, tail_at = len(self.head), self.size - len(self.tail)
        parts = [self.head[start:min(end, filler)],
                 self.byte * max(0, min(end, tail_at) - max(start, filler)),
                 self.tail[max(start, tail_at) - tail_at:max(0, end - tail_at)]]
        data = b"".join(parts)
        buffer[:len(data)] = data
        self.read_bytes = end
        return len(data)


def multipart(size: int) -> Body:
    """A form of `size` bytes whose one file fills what the framing leaves."""
    head = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")
    return Body(size, b"\0", head, b"\r\n--b--\r\n")


def _too_large(reply, limit: int) -> None:
    assert reply.status_code == 413, reply.get_data(as_text=True)[:300]
    assert reply.mimetype == PROBLEM
    body = reply.get_json()
    assert body["type"] == "/problems/body-too-large" and body["limit"] == limit, body


def _post(hostile, path: str, body: Body, content_type: str):  # noqa: F811
    # the environ's own: given a multipart type and no data, the test client would frame a form of its own
    environ = {"wsgi.input": body, "CONTENT_LENGTH": str(body.size), "CONTENT_TYPE": content_type}
    return hostile.app.test_client().post(path, headers=hostile.caller(path), environ_overrides=environ)


KINDS = [  # (path, media type, the limit of its kind)
    (f"{API}/customers", "application/json", limits.JSON_LIMIT),
    ("/oauth/token", "application/x-www-form-urlencoded", limits.JSON_LIMIT),
    (f"{API}/branding/logo", "multipart/form-data; boundary=b", assets.LIMITS["logo"] + limits.ENVELOPE),
    (f"{API}/branding/favicon", "multipart/form-data; boundary=b", assets.LIMITS["favicon"] + limits.ENVELOPE),
    (f"{API}/branding/themes", "multipart/form-data; boundary=b", theme_upload.MAX_ZIP + limits.ENVELOPE),
    ("/console/api/branding/logo", "multipart/form-data; boundary=b", assets.LIMITS["logo"] + limits.ENVELOPE),
    (f"{API}/commissions/disputes/1/attachments", "multipart/form-data; boundary=b",
     disputes.MAX_FILE + limits.ENVELOPE),
    ("/webhooks/stripe", "application/json", limits.WEBHOOK_LIMIT),
    ("/webhooks/mpesa/some-token/c2b", "application/json", limits.WEBHOOK_LIMIT),
]


@pytest.mark.parametrize("path, media, limit", KINDS)
def test_a_body_over_its_routes_limit_is_refused_unread(hostile, path, media, limit):  # noqa: F811
    body = Body(limit + 1)
    _too_large(_post(hostile, path, body, media), limit)
    assert body.read_bytes == 0


@pytest.mark.parametrize("path, media, limit", KINDS)
def test_a_body_at_its_routes_limit_is_read(hostile, path, media, limit):  # noqa: F811
    """At the limit the body is the route's to judge (these bodies are nonsense: some other 4xx)."""
    body = multipart(limit) if media.startswith("multipart/") else Body(limit)
    reply = _post(hostile, path, body, media)
    assert 400 <= reply.status_code < 500 and reply.status_code != 413, reply.get_data(as_text=True)[:300]
    assert reply.mimetype in (PROBLEM, "application/json")


def test_twenty_megabytes_of_json_are_not_read(hostile):  # noqa: F811
    body = Body(20 * MiB, b"[")
    _too_large(_post(hostile, f"{API}/customers", body, "application/json"), limits.JSON_LIMIT)
    assert body.read_bytes == 0


def test_a_file_just_over_the_services_limit_gets_the_services_answer(hostile):  # noqa: F811
    """The envelope leaves room for the multipart framing, so the service, not the cap, explains a logo that is
    a little too big."""
    data = {"file": (io.BytesIO(b"\x89PNG" + b"\0" * assets.LIMITS["logo"]), "logo.png")}
    reply = hostile.app.test_client().post(f"{API}/branding/logo", data=data, content_type="multipart/form-data",
                                           headers=hostile.caller(API))
    assert reply.status_code == 422, reply.get_json()
    assert "the most allowed is" in reply.get_json()["detail"]


def test_the_largest_legitimate_json_fits(hostile):  # noqa: F811
    """A bulk operation on BULK_MAX ids of 19 digits, the longest there are: far below the cap, and served."""
    ids = list(range(10**18, 10**18 + BULK_MAX))
    raw = json.dumps({"ids": ids, "status": "Suspended", "reason": "unpaid"})
    assert len(raw) < limits.JSON_LIMIT / 4
    reply = hostile.app.test_client().post(f"{API}/customers/bulk/status", data=raw, content_type="application/json",
                                           headers=hostile.caller(API))
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["not_found"] == BULK_MAX


# -- on a real socket ---------------------------------------------------------------------------------------
class Counted(io.RawIOBase):
    def __init__(self, stream):
        self.stream, self.read_bytes = stream, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        self.read_bytes += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.read_bytes += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size)
        self.read_bytes += len(data)
        return data


@pytest.fixture
def server(hostile):  # noqa: F811
    """The app on werkzeug's server on a free port, each request's `wsgi.input` counted (in `seen`)."""
    from werkzeug.serving import make_server

    seen: list[Counted] = []

    def counted(environ, start_response):
        environ["wsgi.input"] = stream = Counted(environ["wsgi.input"])
        seen.append(stream)
        return hostile.app(environ, start_response)

    wsgi = make_server("127.0.0.1", 0, counted, threaded=True)
    thread = threading.Thread(target=wsgi.serve_forever, name="request-size-server", daemon=True)
    thread.start()
    try:
        yield wsgi.server_port, seen
    finally:
        wsgi.shutdown()
        thread.join(timeout=10)
        wsgi.server_close()


def _head(host: str, extra: str) -> bytes:
    return (f"POST {API}/customers HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"{extra}\r\n").encode()


def _response(sock: socket.socket) -> tuple[int, dict, dict]:
    """Status, headers and JSON body of the one response on `sock` (werkzeug's server sends a Content-Length)."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        received = sock.recv(65536)
        assert received, f"the server closed the connection, having sent {data!r}"
        data += received
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    while len(body) < int(headers["Content-Length"]):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_a_declared_20_mb_body_is_answered_before_it_is_sent(hostile, server):  # noqa: F811
    port, seen = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head(hostile.host, f"Content-Length: {20 * MiB}\r\n"))  # and not one byte of it
        status, headers, body = _response(sock)
    assert status == 413 and headers["Content-Type"] == PROBLEM
    assert body["type"] == "/problems/body-too-large" and body["limit"] == limits.JSON_LIMIT
    assert [s.read_bytes for s in seen] == [0]


def test_a_chunked_body_is_cut_off_at_the_limit(hostile, server):  # noqa: F811
    """No Content-Length to refuse up front: the body is read as it comes, up to the limit, and no further."""
    port, seen = server
    chunk = b"[" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head(hostile.host, "Transfer-Encoding: chunked\r\n"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sent < 20 * MiB:
            if select.select([sock], [], [], 0.02)[0]:
                break  # the answer has come
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        status, headers, body = _response(sock)
    assert status == 413 and body["limit"] == limits.JSON_LIMIT
    assert sent < 4 * MiB
    (stream,) = seen
    assert limits.JSON_LIMIT < stream.read_bytes <= limits.JSON_LIMIT + 2 * len(chunk) + 64


def test_every_upload_route_has_a_limit_of_its_own(app):
    """A route that takes files is capped by what its service accepts; one missing from limits.UPLOADS would
    get the JSON cap (1 MiB), which no upload limit was chosen to be."""
    uploads = {rule.endpoint for rule in app.url_map.iter_rules()
               if any(p.get("in") == "files" for p in getattr(app.view_functions[rule.endpoint], "_apidoc", {})
                      .get("arguments", {}).get("parameters", ()))
               or getattr(app.view_functions[rule.endpoint], "takes_files", False)}  # a page's form with files
    assert uploads == set(limits.UPLOADS)


def test_every_page_upload_goes_back_to_a_page_it_can_draw(app):
    """A page's form over the cap is sent back to its page (limits.takes_files `back`): that page must exist, answer
    GET, and need no path argument the upload's own address does not carry."""
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "takes_files", False):
            continue
        blueprint = rule.endpoint.rpartition(".")[0]
        back = f"{blueprint}{view.files_back}" if view.files_back.startswith(".") else view.files_back
        pages = list(app.url_map.iter_rules(back))
        assert pages and "GET" in pages[0].methods, (rule.endpoint, back)
        assert pages[0].arguments <= rule.arguments, (rule.endpoint, back)
        checked += 1
    assert checked >= 6

"""What a request may carry, decided once for every door (the API, the portals, OAuth's form posts, the
payment gateways' webhooks) before any view reads it.

**Size.** A body is capped by the kind of route it is sent to, and a body over the cap is answered 413
without being read: at once when its Content-Length says so, and as it streams when it comes chunked
(the WSGI server ends the stream, `_Capped` stops it one byte past the cap). The caps:

- JSON and form bodies, 1 MiB. The largest legitimate one is a bulk operation on BULK_MAX (10,000)
  customer ids, about 200 KB; the longest text field, a brand's terms (20,000 characters), is 120 KB even
  with every character escaped.
- uploads, the file the service accepts plus ENVELOPE for the multipart framing and the other fields:
  logos 1 MiB, favicons 256 KiB (app/services/branding/assets.py), theme archives 5 MiB
  (app/services/branding/theme_upload.py), dispute attachments 5 MiB (app/services/commissions/disputes.py,
  app/services/billing/arrangements/documents.py; the portal's dispute form, which sends up to 5, 25 MiB).
  A file just over the service's own limit still reaches it, and gets its clearer 422.
- webhooks, 256 KiB: a card processor's event is a few KB, a Daraja callback under 2 KB.

**Depth.** JSON nested deeper than MAX_DEPTH (32) is refused (400 invalid-json). The API's own bodies
nest a few levels, a card processor's event about ten, and a customer's free-form `extra` may use the
rest. Unchecked, `[`×5000 made the parsers recurse until Python gave up: a 500 on every route.

**Text.** No text may carry a character that XML 1.0 cannot hold: NUL and the other C0 controls except
tab, newline and carriage return, lone surrogates (U+D800–U+DFFF, which a JSON escape can produce and
UTF-8 cannot encode), U+FFFE and U+FFFF. PostgreSQL refuses NUL in text and lone surrogates in UTF-8 and
jsonb; the documents we draw (PDF, XLSX, XML e-mail parts) cannot hold the controls; and no person types
them. The rule covers every string of a JSON body (keys too), query strings, form fields and uploaded
file names, path segments and header values. A refusal is the API's ordinary validation problem (422,
`/problems/validation`) naming the input, so clients show it as they show any invalid field.

`check_request` applies all of it before any view, on every route (a before_request hook, installed by
the app factory); OAuth's protocol endpoints, which document RFC 6749's errors, get their refusals as
`invalid_request`. A request's `get_json()` reads by the same rules, and webargs parses the body again for
the view only after `check_request` has passed it.
"""

from __future__ import annotations

import json
import re
from typing import IO, Any

from flask import Flask, current_app, flash, redirect, request, url_for
from flask import Request as FlaskRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from app.services.billing.arrangements import documents as dispute_documents
from app.services.branding import assets, theme_upload
from app.services.commissions import disputes
from app.services.errors import ServiceError
from app.web.errors import handle_service, problem

KiB, MiB = 1024, 1024 * 1024
JSON_LIMIT = 1 * MiB
WEBHOOK_LIMIT = 256 * KiB
ENVELOPE = 64 * KiB
MAX_DEPTH = 32
# endpoint of an upload route -> the largest file its service accepts
UPLOADS: dict[str, int] = {
    "branding.upload_logo": assets.LIMITS["logo"],
    "branding.upload_favicon": assets.LIMITS["favicon"],
    "branding.upload_theme": theme_upload.MAX_ZIP,
    "branding_console.upload_platform_logo": assets.LIMITS["logo"],
    "reseller_branding.upload": max(assets.LIMITS.values()),  # the page's logo or favicon
    "console_brand.upload_logo": assets.LIMITS["logo"],
    "commission_payouts.add_attachment": disputes.MAX_FILE,
    "reseller_commissions.open_dispute": disputes.MAX_FILES * disputes.MAX_FILE,  # the page's form, all its files
    "reseller_commissions.add_attachment": disputes.MAX_FILES * disputes.MAX_FILE,
    "portal_disputes.add_attachment": dispute_documents.MAX_FILE,
    "customer_disputes.create": dispute_documents.MAX_FILES * dispute_documents.MAX_FILE,  # the form, all its files
    "customer_disputes.add_documents": dispute_documents.MAX_FILES * dispute_documents.MAX_FILE,
}
WEBHOOKS = "webhooks"  # the blueprint of the payment gateways' callbacks: JSON whatever they call it
OAUTH_ERROR = "OAuthErrorOut"  # the schema of RFC 6749's error, which OAuth's protocol endpoints answer with

FILE_TOO_LARGE = "The file is too large, so nothing was saved. The largest file it takes is said next to its field."
REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
TEXT_RULE = ("text may not contain NUL, other control characters (tab, newline and carriage return are fine), "
             "lone surrogates, U+FFFE or U+FFFF")


class InvalidJSON(ServiceError, ValueError):
    """A body that says it is JSON and is not JSON we read. A ValueError too, which is what Flask's
    `get_json(silent=True)` expects of a JSON provider that cannot read a body."""

    status = 400
    slug = "invalid-json"
    title = "Invalid JSON"


class InvalidText(ServiceError, ValueError):
    status = 422
    slug = "validation"
    title = "Invalid input"

    def __init__(self, location: str, name: str, value: str):
        bad = REFUSED.search(value).group()
        message = f"contains U+{ord(bad):04X}; {TEXT_RULE}"
        super().__init__(f"{location} {name!r}: {message}", errors={location: {name: [message]}})


def takes_files(view, back: str):
    """Marks a page's view whose form sends files, so the check that every upload has its own cap in UPLOADS
    finds page forms as it finds API routes (whose files parameters the API's schema lists). `back` is the
    endpoint of the form's page (relative to the view's blueprint), where a body over the cap is sent back."""
    view.takes_files = True
    view.files_back = back
    return view


def _kind(endpoint: str | None) -> tuple[str, int]:
    if endpoint in UPLOADS:
        return "upload", UPLOADS[endpoint] + ENVELOPE
    if endpoint and endpoint.partition(".")[0] == WEBHOOKS:
        return "webhook", WEBHOOK_LIMIT
    return "JSON or form", JSON_LIMIT


def body_limit(endpoint: str | None) -> int:
    return _kind(endpoint)[1]


def loads(data: str | bytes) -> Any:
    """JSON as RFC 8259 has it (UTF-8, no NaN or Infinity), no deeper than MAX_DEPTH, every string (keys
    too) within the text rule."""
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJSON("the body is not UTF-8") from None
    try:
        document = json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep() from None
    except InvalidJSON:
        raise
    except ValueError as exc:  # not JSON, or an integer of more digits than Python reads
        raise InvalidJSON(f"the body is not valid JSON: {exc}") from None
    check_json(document)
    return document


def _no_constant(name: str):
    raise InvalidJSON(f"{name} is not a JSON value")


def _too_deep() -> InvalidJSON:
    return InvalidJSON(f"the JSON nests deeper than {MAX_DEPTH} levels", max_depth=MAX_DEPTH)


def check_json(document: Any) -> None:
    """Depth and text over a parsed document, without recursion (the document may be as deep as the
    parser allowed)."""
    if isinstance(document, str):
        check_text("json", "_schema", document)  # marshmallow's name for the whole body
        return
    if not isinstance(document, dict | list):
        return
    stack: list[tuple[Any, int, tuple]] = [(document, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(key, str) and REFUSED.search(key):
                raise InvalidText("json", _dotted((*path, key)) + " (a key)", key)
            if isinstance(value, str):
                if REFUSED.search(value):
                    raise InvalidText("json", _dotted((*path, key)), value)
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1, (*path, key)))


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def check_text(location: str, name: str, value: str) -> None:
    if REFUSED.search(name):
        raise InvalidText(location, repr(name), name)
    if REFUSED.search(value):
        raise InvalidText(location, name, value)


class _RequestJSON:
    """What `Request.get_json` parses with: `loads`."""

    loads = staticmethod(loads)


class _Capped(LimitedStream):
    """A body that the server ends (chunked, or any body under gunicorn), read to at most `maximum` bytes.

    werkzeug's own maximum stops quietly at the limit when a body is read to its end (`get_data`), so a
    chunked body over it would come out cut short and be taken for whole: this reads one byte past the
    limit, and a body that has it is refused.
    """

    def __init__(self, stream: IO[bytes], maximum: int):
        super().__init__(stream, maximum + 1, is_max=True)
        self.maximum = maximum

    def readinto(self, b) -> int | None:  # type: ignore[override]
        size = super().readinto(b)
        if self.tell() > self.maximum:
            raise RequestEntityTooLarge()
        return size


class Request(FlaskRequest):
    """Flask's request, whose body limit follows the route it was sent to (before routing: the JSON cap),
    so whatever reads the body first (our check, webargs, a view, authlib) reads no more than that."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if self.shallow or limit is None or "wsgi.input_terminated" not in self.environ:
            return super().stream  # a Content-Length the server does not enforce: werkzeug holds it to that
        if self.content_length is not None and self.content_length > limit:
            raise RequestEntityTooLarge()
        return _Capped(self.environ["wsgi.input"], limit)

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        if self._max_content_length is not None:
            return self._max_content_length
        return body_limit(self.endpoint)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def json_module(self):
        """Our `loads`. Flask hands each request the app's JSON provider, which also reads our own responses
        back (`response.get_json()`, which carry what is stored, and may predate the rules): requests alone
        are read by the rules, so the provider is kept aside."""
        return _RequestJSON

    @json_module.setter
    def json_module(self, provider) -> None:
        self.app_json_provider = provider

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, ServiceError):
            raise e
        if e is None:  # not a JSON media type: werkzeug's 415
            return super().on_json_loading_failed(e)
        raise InvalidJSON(f"the body is not valid JSON: {e}") from None


def check_request() -> None:
    """Before any view: the body's size, then the text of the path, query and headers, then the body itself
    (JSON, or the fields and file names of a form), so no view, parser or service meets what the rule
    refuses."""
    limit = request.max_content_length
    if request.content_length is not None and limit is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text("path", name, value)
    for name, value in request.args.items(multi=True):
        check_text("query", name, value)
    for name, value in request.headers.items():
        check_text("headers", name, value)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            check_text("form", name, value)
        for name, upload in request.files.items(multi=True):
            check_text("files", name, upload.filename or "")
    elif (request.is_json or (request.endpoint or "").partition(".")[0] == WEBHOOKS) and request.get_data():
        request.get_json(force=True)  # parsed once by the rules and cached: get_json() answers this from now on


def _documents_oauth_errors() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    documented = getattr(view, "_apidoc", {}).get("response", {}).get("responses", {}).get(400, ())
    return any(getattr(entry.get("schema"), "__name__", type(entry.get("schema")).__name__) == OAUTH_ERROR
               for entry in documented)


def refused(exc: InvalidJSON | InvalidText):
    """A problem like any other; where an operation documents its 400 as RFC 6749's error (OAuth's protocol
    endpoints), `invalid_request` (§5.2: a request "otherwise malformed"), which is what its clients read."""
    if _documents_oauth_errors():
        return {"error": "invalid_request", "error_description": exc.detail}, 400, {"Cache-Control": "no-store"}
    return handle_service(exc)


def _page_too_large(back: str):
    """A page's form whose files are over the cap, refused unread (nothing of it can be kept): back to the form's
    page, saying so, instead of the bare problem an API client reads. The page takes those of the request's path
    arguments its own address has (a dispute's documents go back to that dispute)."""
    flash(FILE_TOO_LARGE, "error")
    endpoint = f"{request.blueprint}{back}" if back.startswith(".") else back
    wanted = next(current_app.url_map.iter_rules(endpoint)).arguments
    return redirect(url_for(endpoint, **{k: v for k, v in (request.view_args or {}).items() if k in wanted}), 303)


def too_large(exc: RequestEntityTooLarge):
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "takes_files", False):
        return _page_too_large(view.files_back)
    kind, limit = _kind(request.endpoint)
    if request.content_length is not None and request.content_length <= limit:  # werkzeug's form parser
        field_limit = request.max_form_memory_size
        return problem(413, "body-too-large", "Form field too large",
                       f"a form field (other than a file) may be at most {field_limit:,} bytes", limit=field_limit)
    return problem(413, "body-too-large", "Request body too large",
                   f"a {kind} body here may be at most {limit:,} bytes", limit=limit)


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.before_request(check_request)
    app.register_error_handler(InvalidJSON, refused)
    app.register_error_handler(InvalidText, refused)
    app.register_error_handler(RequestEntityTooLarge, too_large)


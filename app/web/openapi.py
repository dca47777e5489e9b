"""The OpenAPI document, saying what the API really sends when it refuses a request.

Errors go out as RFC 9457 problem details, `application/problem+json` (`app.web.errors`), but
flask-smorest documents them as `application/json` with its own `Error` schema ({code, status, message}),
which no response of ours matches: a client generated from the document would look for the wrong media
type and the wrong members. This `Api` declares instead, with the `Problem` schema:

- the default error response of every operation, and the per-status responses that flask-smorest refers
  to (the 422 of every `@blp.arguments`, `@blp.alt_response(409, "CONFLICT")`…);
- every response a view documents with `@blp.alt_response(status, schema=ProblemSchema)` (or with
  flask-smorest's `ErrorSchema`, which means the same thing here).

Responses documented with another schema keep their media type: OAuth's protocol errors, for one, are
RFC 6749 JSON because that is what OAuth clients parse.

The document is browsable at `/api/docs` with Swagger UI, whose files come from the `swagger-ui-bundle-v2`
package and are served by the app under a versioned path (`/api/docs/swagger-ui-<version>/…`, cached for
ever): the page works on a machine without internet access, and loads nothing from a CDN. The page is
drawn from `api/docs.html` of the theme chain and starts the viewer from a static file, not an inline
script, so that a Content-Security-Policy without 'unsafe-inline' can cover it.
"""

from __future__ import annotations

import http
from pathlib import Path

import flask
import flask_smorest
import marshmallow as ma
import swagger_ui_bundle
from apispec import BasePlugin
from flask_smorest.utils import prepare_response

from app.web.auth import requires

PROBLEM = "application/problem+json"  # as app.web.errors sends it
JSON = "application/json"
_ERROR_SCHEMAS = frozenset({"Problem", "Error"})  # component names: ours, and flask-smorest's ErrorSchema

SWAGGER_UI = Path(str(swagger_ui_bundle.swagger_ui_path))
SWAGGER_UI_VERSION = SWAGGER_UI.name  # "swagger-ui-5.31.0": a new version is a new URL, so caching for ever is safe
SWAGGER_UI_URL = f"/api/docs/{SWAGGER_UI_VERSION}/"  # OPENAPI_SWAGGER_UI_URL (app/factory.py)
_SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})
_IMMUTABLE = "public, max-age=31536000, immutable"


class ProblemSchema(ma.Schema):
    """A problem (RFC 9457). Members beyond these may follow, named by the problem `type` that sends them
    (`limit` and `count` with a reached limit, `from_status` and `allowed` with a refused transition…)."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: true, since problem types add members

    type = ma.fields.String(required=True, metadata={
        "description": "a stable URI reference naming the kind of problem: switch on this",
        "example": "/problems/not-found"})
    title = ma.fields.String(required=True, metadata={"description": "the kind of problem, for people",
                                                      "example": "Not found"})
    status = ma.fields.Integer(required=True, metadata={"description": "the HTTP status code", "example": 404})
    detail = ma.fields.String(metadata={"description": "this occurrence, for people", "example": "no such customer"})
    instance = ma.fields.String(metadata={"description": "a URI reference naming this occurrence"})
    errors = ma.fields.Dict(metadata={
        "description": "invalid input: the messages by field (request validation: by location, then field)",
        "example": {"json": {"status": ["Must be one of: New, Active, Suspended, Inactive, Pending."]}}})
    field = ma.fields.String(metadata={"description": "the input the problem is about"})
    tenant_status = ma.fields.String(metadata={"description": "with tenant-suspended: the portal's status"})


class ProblemResponses(BasePlugin):
    """Moves each operation's error responses to `application/problem+json`. Runs after the marshmallow
    plugin, so a response's schema is a reference to its component by then."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if isinstance(operation, dict):
                for response in (operation.get("responses") or {}).values():
                    _as_problem(response)


def _as_problem(response) -> None:
    content = response.get("content") if isinstance(response, dict) else None
    body = (content or {}).get(JSON)
    ref = body.get("schema", {}).get("$ref", "") if isinstance(body, dict) else ""
    if ref.rsplit("/", 1)[-1] in _ERROR_SCHEMAS:
        del content[JSON]
        content[PROBLEM] = {**body, "schema": {**body["schema"], "$ref": ref.rsplit("/", 1)[0] + "/Problem"}}


class Api(flask_smorest.Api):
    """flask-smorest's Api, documenting errors as problem details (see the module's docstring)."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *, extra_plugins=None, **options):
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), ProblemResponses()], **options)

    def _register_responses(self):
        """The responses flask-smorest refers to by name (`UNPROCESSABLE_ENTITY`, `DEFAULT_ERROR`…): an
        error status as a problem; any other without a body, where flask-smorest would give it the error
        schema (a 302 or a 200 carries no problem)."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _register_swagger_ui_rule(self, blueprint):
        """The viewer's page (flask-smorest's rule, our view) and the viewer's own files beside it."""
        super()._register_swagger_ui_rule(blueprint)
        if self.config.get("OPENAPI_SWAGGER_UI_PATH") is not None:
            blueprint.add_url_rule("/docs/<version>/<name>", endpoint="swagger_ui_file",
                                   view_func=self._swagger_ui_file)

    @requires(public=True)
    def _openapi_swagger_ui(self):
        """The API reference, drawn from the theme chain's `api/docs.html` (see the module's docstring)."""
        return flask.render_template("api/docs.html", title=self.spec.title, swagger_ui_url=self._swagger_ui_url,
                                     spec_url=flask.url_for(f"{self._make_doc_blueprint_name()}.openapi_json"))

    @requires(public=True)
    def _swagger_ui_file(self, version: str, name: str):
        """One of the few files the page loads, from the installed package; nothing else of the package is served."""
        if version != SWAGGER_UI_VERSION or name not in _SWAGGER_UI_FILES:
            flask.abort(404)
        response = flask.send_file(SWAGGER_UI / name, max_age=31536000)
        response.headers["Cache-Control"] = _IMMUTABLE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

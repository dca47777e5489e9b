"""The security headers of every response (flask-talisman), and why each is what it is.

- **Content-Security-Policy**, on everything but JSON: scripts, styles, fonts and fetches from our own
  origin only, never inline (pages load htmx and their few scripts as files; the brand's colours and custom
  CSS are in the brand stylesheet, `/brand/theme-<hash>.css`, not in a `<style>`); images from us, `data:`
  and `https:`, because a brand may name its logo by an `https:` address and its custom CSS may use `https:`
  or inline images (the only loads the brand's CSS check lets through); `object-src 'none'`, `base-uri
  'self'` and `frame-ancestors 'none'` (no page is ever framed, by anyone). There is no `form-action`:
  Chrome applies it to the redirect that follows a POST, and a card payment's hosted checkout is such a
  redirect to the processor.
- A view that sets a policy of its own keeps it: the brand's files and the favicon (a sandbox that allows
  nothing), the brand preview (a sandbox allowing the unsaved brand's inline stylesheet, since it has no
  URL of its own yet), a chart's SVG (its own inline styles, no script).
- **Strict-Transport-Security** only on a request that came over HTTPS: `request.is_secure`, which
  app/web/proxy.py sets from `X-Forwarded-Proto` only for a configured trusted proxy. Talisman would also
  believe that header from anyone; an HTTP-only deployment (the demo) must never be told it is HTTPS.
- `X-Frame-Options: DENY` for browsers without `frame-ancestors`, `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: strict-origin-when-cross-origin` (a view may ask for less: the reset page asks for
  `no-referrer`).
- Nothing is redirected to HTTPS here (TLS ends at the ingress, README "Behind a proxy"), and the forms'
  cookie keeps its own `Secure` rule (app/portals/__init__.py).
"""

from __future__ import annotations

import flask
from flask import Flask
from flask_talisman import Talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: https:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}
POLICY_HEADER = "Content-Security-Policy"
REFERRER_HEADER = "Referrer-Policy"
_JSON = frozenset({"application/json", "application/problem+json"})


class Headers(Talisman):
    """Talisman with the three exceptions of the module's docstring: a view's own policy, JSON without a
    policy, and HSTS from `request.is_secure` alone."""

    def _set_response_headers(self, response):
        own_policy = response.headers.get(POLICY_HEADER)
        own_referrer = response.headers.get(REFERRER_HEADER)
        super()._set_response_headers(response)
        if own_policy:
            response.headers[POLICY_HEADER] = own_policy
        elif response.mimetype in _JSON:
            del response.headers[POLICY_HEADER]
        if own_referrer:
            response.headers[REFERRER_HEADER] = own_referrer
        return response

    def _set_hsts_headers(self, headers):
        if not flask.request.is_secure:
            return
        headers["Strict-Transport-Security"] = (f"max-age={self.strict_transport_security_max_age}; "
                                                "includeSubDomains")


def init_app(app: Flask) -> None:
    Headers(app, force_https=False, session_cookie_secure=False, frame_options="DENY", content_security_policy=CSP,
            strict_transport_security=True, referrer_policy="strict-origin-when-cross-origin",
            session_cookie_samesite="Lax", permissions_policy={"browsing-topics": "()"})

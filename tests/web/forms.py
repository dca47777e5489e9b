"""Filling in the portals' forms as a browser without JavaScript does: read the page, send its CSRF token
back with the fields."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def submit(client, url: str, host: str | None = None, *, page: str | None = None, **fields):
    """GET `page` (the form's page; `url` by default), then POST its form to `url` with `fields`."""
    host = host or urlsplit(url).hostname
    shown = client.get(page or url, headers={"Host": host})
    assert shown.status_code == 200, (page or url, shown.status_code)
    return client.post(url, headers={"Host": host}, data={"csrf_token": csrf_of(shown.get_data(as_text=True)),
                                                          **fields})


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def no_inline_script(html: str) -> bool:
    return not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and " on" + "submit=" not in html

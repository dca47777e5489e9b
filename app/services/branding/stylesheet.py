"""The per-tenant stylesheet: brand colours and fonts as CSS variables, then the tenant's custom CSS.

Custom CSS is a reseller's input shown on its customers' pages, so it is parsed (tinycss2), not pattern
matched, and refused when it could load or run anything: `@import`, `@namespace`, external or
`javascript:` URLs, `expression()`, `behavior`/`-moz-binding`, and anything that would close the
`<style>`/stylesheet context. Images may still come from `https:` or be inline `data:image/...`. The
stylesheet is served at a URL holding its content hash, so browsers may cache it for ever and a change
is a new URL.
"""

from __future__ import annotations

import hashlib

import tinycss2

from app.services.errors import Invalid

_ALLOWED_AT_RULES = {"media", "supports", "font-face", "keyframes", "-webkit-keyframes", "page"}
_FORBIDDEN_WORDS = ("expression", "behavior", "-moz-binding", "javascript:", "vbscript:")


def sanitise_css(css: str) -> str:
    """The CSS re-serialised from its parse, or Invalid naming the first thing refused."""
    if "</" in css or "<!--" in css:
        raise Invalid("custom_css may not contain HTML ('</' or '<!--')", field="custom_css")
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    _check(rules)
    return tinycss2.serialize(rules).strip()


def _check(nodes) -> None:
    for node in nodes:
        kind = node.type
        if kind == "error":
            raise Invalid(f"custom_css does not parse: {node.message} (line {node.source_line})",
                          field="custom_css")
        if kind == "at-rule":
            if node.lower_at_keyword not in _ALLOWED_AT_RULES:
                raise Invalid(f"custom_css may not use @{node.at_keyword}", field="custom_css")
            _check(node.prelude)
            if node.content is not None:
                _check(_inner(node))
        elif kind == "qualified-rule":
            _check(node.prelude)
            _check(_inner(node))
        elif kind == "declaration":
            _word(node.lower_name)
            _check(node.value)
        elif kind == "url":
            _url(node.value)
        elif kind == "function":
            _word(node.lower_name)
            if node.lower_name == "url":
                strings = [a.value for a in node.arguments if a.type == "string"]
                _url(strings[0] if strings else "")
            _check(node.arguments)
        elif kind in ("() block", "[] block", "{} block"):
            _check(node.content)
        elif kind in ("ident", "string"):
            _word(node.value.lower())


def _inner(node):
    return tinycss2.parse_blocks_contents(node.content, skip_comments=True, skip_whitespace=True)


def _word(text: str) -> None:
    lowered = text.lower()
    for forbidden in _FORBIDDEN_WORDS:
        if forbidden in lowered:
            raise Invalid(f"custom_css may not use {forbidden.rstrip(':')}", field="custom_css")


def _url(value: str) -> None:
    lowered = value.strip().lower()
    if lowered.startswith("https://") or lowered.startswith("data:image/") and "svg" not in lowered:
        return
    raise Invalid(f"custom_css may load images only from https:// or data:image/ (not {value[:60]!r})",
                  field="custom_css")


def render(brand: dict) -> str:
    """The stylesheet of a resolved brand (see resolve.py): variables first, custom CSS last, so a
    reseller's rules win over the theme's."""
    lines = [":root {",
             f"  --brand-primary: {brand['primary_color']};",
             f"  --brand-secondary: {brand['secondary_color']};",
             f"  --brand-font: {brand['font_family']};",
             f"  --brand-heading-font: {brand['heading_font_family'] or brand['font_family']};",
             "}"]
    if brand.get("custom_css"):
        lines += ["", "/* the reseller's own rules */", brand["custom_css"]]
    return "\n".join(lines) + "\n"


def digest(css: str) -> str:
    return hashlib.sha256(css.encode()).hexdigest()[:16]

"""Which words of a portal's pages have no Swahili yet: the msgids of templates (`_()` calls, read with Jinja's
Babel extractor) and of Python labels, looked up in the merged catalogue (app/services/branding/i18n.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from jinja2.ext import babel_extract

from app.services.branding import i18n

TEMPLATES = i18n.CATALOGUES.parent / "templates"


def untranslated(templates: Iterable[Path], said: Iterable[str] = (), language: str = "sw") -> list[str]:
    known = getattr(i18n.translations(language), "_catalog", {})  # msgid -> translation (a word may stay as it is)
    missing = []
    for template in templates:
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and not known.get(message):
                    missing.append(f"{template.relative_to(TEMPLATES)}: {message}")
    missing += [f"said: {m}" for m in said if m and not known.get(m)]
    return missing

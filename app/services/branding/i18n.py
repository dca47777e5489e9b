"""Translations of the platform's own words (pages, e-mails, documents) into a tenant's language.

Catalogues are the `.po` files under `themes/base/translations/<language>/LC_MESSAGES/`: `messages.po` for
the customer portal, the sign-in pages, e-mails and documents, and one file per part of the team's and
staff's portals (`reseller-<section>.po`, `console.po`...), so that a part's words live beside each other;
read with Babel when first needed, all of a language's files as one catalogue (no compile step to forget). A
word already in an earlier file keeps that file's translation (messages.po first, then the others by name),
so that one part cannot change another's words.
A template asks for a string with `{{ _("...") }}` or `{% trans %}`; the language is the render's `language`
(the tenant's setting), so one environment serves every language and two tenants' renders never mix them.
"""

from __future__ import annotations

import io
from functools import cache

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from tenants.themes import BASE

CATALOGUES = BASE / "translations"
DEFAULT = "en"


@cache
def translations(language: str | None) -> NullTranslations:
    code = (language or DEFAULT).replace("-", "_").split("_")[0].lower()
    folder = CATALOGUES / code / "LC_MESSAGES"
    if code == DEFAULT or not code.isalpha() or not (folder / "messages.po").is_file():
        return NullTranslations()
    with (folder / "messages.po").open("rb") as source:
        catalogue = read_po(source, locale=code)  # its header (plural forms) is the catalogue's
    for path in sorted(folder.glob("*.po")):
        if path.name == "messages.po":
            continue
        with path.open("rb") as source:
            read = read_po(source, locale=code)
        for message in read:
            known = catalogue.get(message.id) if message.id else None
            if message.id and message.string and not (known is not None and known.string):
                catalogue[message.id] = message  # a word already translated keeps its first translation
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def languages() -> list[str]:
    found = [p.name for p in CATALOGUES.iterdir() if (p / "LC_MESSAGES" / "messages.po").is_file()] \
        if CATALOGUES.is_dir() else []
    return sorted({DEFAULT, *found})


@jinja2.pass_context
def _gettext(context, message: str) -> str:
    return translations(context.get("language")).gettext(message)


@jinja2.pass_context
def _ngettext(context, singular: str, plural: str, number: int) -> str:
    return translations(context.get("language")).ngettext(singular, plural, number)


def install(environment: jinja2.Environment) -> None:
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)

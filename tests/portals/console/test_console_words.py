"""Every word the console's Resellers, Portal ID search, Master catalogue, Commissions, Reseller accounts and Audit
log pages show has its Swahili (themes/base/translations/sw/LC_MESSAGES/console.po): the templates' msgids, and
the Python side's (the forms' messages and choices, the flash messages, the tables' headings)."""

from __future__ import annotations

import inspect
import re

from app.portals import tables
from app.portals.console import (
    accounts,
    accounts_forms,
    audit,
    audit_forms,
    catalogue,
    catalogue_forms,
    commissions,
    commissions_forms,
    resellers,
    resellers_forms,
    search,
    search_forms,
)
from tests.portals.words import TEMPLATES, untranslated

MODULES = (resellers, search, commissions, accounts, audit, catalogue)
FORMS = (resellers_forms, search_forms, commissions_forms, accounts_forms, audit_forms, catalogue_forms)
FLASHED = re.compile(r'flash\(\s*"([^"]+)"|"([^"]+)" if \w+ else "([^"]+)",\s*"success"')


def console_templates() -> list:
    folder = TEMPLATES / "console"
    parts = ("resellers", "search", "commissions", "accounts", "audit", "catalogue")
    return [p for part in parts for p in sorted((folder / part).glob("*.html"))] + [folder / "_commission.html"]


def console_said(app) -> list[str]:
    said: list[str] = []
    for module in MODULES:
        for value in vars(module).values():
            if isinstance(value, tables.TableSpec):
                said += [value.title, *(c.title for c in value.columns)]
        said += [m for found in FLASHED.findall(inspect.getsource(module)) for m in found if m]
    with app.test_request_context():
        for module in FORMS:
            for name, value in vars(module).items():
                if isinstance(value, dict) and name.endswith("_WORDS"):
                    said += list(value.values())
                if isinstance(value, str) and name.isupper() and " " in value:
                    said.append(value)
                if inspect.isclass(value) and value.__module__ == module.__name__ and hasattr(value, "_unbound_fields"):
                    form = value(meta={"csrf": False}) if "Meta" not in vars(value) else value()
                    for field in form:
                        for validator in field.validators:
                            message = getattr(validator, "message", None)
                            if isinstance(message, str):
                                said.append(message)
                        for choice in getattr(field, "choices", None) or []:
                            label = choice.label if hasattr(choice, "label") else choice[1]
                            if isinstance(label, str) and not label.isupper():
                                said.append(label)
    return list(dict.fromkeys(s for s in said if s and "{" not in s))


def test_every_word_of_the_console_sections_is_in_swahili(app):
    assert untranslated(console_templates(), console_said(app)) == []


def test_the_console_speaks_swahili_where_staff_ask_for_it(app):
    from app.services.branding import i18n

    words = i18n.translations("sw")
    assert words.gettext("Suspend the reseller") == "Simamisha muuzaji"
    assert words.gettext("Impersonate in the customer's portal") != "Impersonate in the customer's portal"

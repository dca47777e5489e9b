"""Every word of the Team and Settings pages has its Swahili (themes/base/translations/sw/LC_MESSAGES/
reseller-team.po): the templates' msgids, the forms' messages and choices, the settings' refusals (which the
pages show next to their fields), the permissions' descriptions (the matrix's rows) and the flashes."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2.ext import babel_extract

from app.portals.reseller import settings, settings_forms, team_forms
from app.services import tenant_settings
from app.services.auth import users
from app.services.auth.permissions import PERMISSIONS
from app.services.branding import i18n
from tenants import tenant_context
from tests.conftest import host_of
from tests.web.forms import submit

SAME = {"%(role)s:", "Kiswahili", "SMS"}  # the same in both languages
VIEWS = ("settings.py", "team.py", "team_roles.py", "team_access.py", "team_api.py")


def _msgids(path: Path):
    with path.open("rb") as source:
        for _line, function, message, _comments in babel_extract(source, ("_", "ngettext"), [], {}):
            if function == "ngettext":
                yield tuple(message[:2])
            else:
                yield message[0] if isinstance(message, tuple) else message


def test_every_word_of_team_and_settings_is_in_swahili():
    words = i18n.translations("sw")
    missing = []
    for part in ("team", "settings"):
        for template in sorted((i18n.CATALOGUES.parent / "templates/reseller" / part).glob("*.html")):
            for message in _msgids(template):
                if isinstance(message, tuple):
                    if words.ngettext(*message, 2) == message[1]:
                        missing.append(f"{part}/{template.name}: {message[1]}")
                elif message and message not in SAME and words.gettext(message) == message:
                    missing.append(f"{part}/{template.name}: {message}")
    said = list(tenant_settings.M.values()) + list(PERMISSIONS.values()) + [t for _f, t in settings.GROUPS.values()]
    said += [v for module in (settings_forms, team_forms) for name, found in vars(module).items()
             if name.isupper() and isinstance(found, dict) for v in found.values() if isinstance(v, str)]
    views = Path(settings.__file__).parent
    for name in VIEWS + ("settings_forms.py", "team_forms.py"):
        text = (views / name).read_text()
        said += re.findall(r'flash\(\s*"([^"]+)"', text) + re.findall(r'\.errors = \["([^"]+)"\]', text)
        said += re.findall(r'(?:InputRequired|SelectChoice\([^,]+,)\s*\(?"([^"]+)"', text)
    missing += [m for m in said if m not in SAME and words.gettext(m) == m]
    assert missing == []


def test_the_pages_are_drawn_in_swahili_for_a_reseller_that_writes_it(client, db, make_tenant):
    tenant = make_tenant("SWT", settings={"language": "sw"})
    host = host_of(tenant)
    with db.session() as s, tenant_context(tenant):
        users.create_user(s, username="admin@swt.example", email="admin@swt.example", role="Admin",
                          password="Settings-Test-9!")
    signed = submit(client, "/reseller/login", host, identifier="admin@swt.example", password="Settings-Test-9!")
    assert signed.status_code == 302
    for path, word in [("/reseller/team", "Wanatimu"), ("/reseller/team/roles", "Jedwali la ruhusa"),
                       ("/reseller/team/sessions", "Walioingia sasa"), ("/reseller/team/api", "Programu za OAuth"),
                       ("/reseller/team/members/new", "Waongeze"), ("/reseller/settings", "Tovuti, lugha na pesa"),
                       ("/reseller/settings/general", "Kiambishi"), ("/reseller/settings/customers", "Pamoja na"),
                       ("/reseller/settings/billing", "Siku za kujaribu tena"),
                       ("/reseller/settings/radius", "Wateja waliosimamishwa")]:
        page = client.get(path, headers={"Host": host})
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        assert 'lang="sw"' in html and word in html, path

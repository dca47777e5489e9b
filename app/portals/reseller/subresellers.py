"""The reseller's Sub-resellers pages, `/reseller/sub-resellers`: the tree below this reseller with each one's
figures (read-only, as the sub-resellers API gives them), one sub-reseller's terms and figures, and creating a
sub-reseller with the fields of "Sub-Reseller Creation" (reseller journey 001) and its first Admin.

Access: every page needs `resellers.manage`, the permission of creating sub-resellers in the API
(app/api/resellers/routes.py). The API lets `finance.reports` read the tree and its figures too; the portal's
section is administration of the business (the Admin role's "Sub-reseller creation"), so it is shown to those who
administer it, and a Readonly member, who holds `finance.reports`, finds no Sub-resellers section (the
dashboard's menu test relies on it) and is refused its pages.

Only descendants exist here: `resellers.descendant_by_code` answers 404 for the parent, a sibling or any code
outside the subtree, exactly as for a code that does not exist.

The first Admin's generated password is shown once, in the answer to the creating POST itself (marked
`no-store`), and kept nowhere: not in the session, not in a flash message, not in a page that a reload or the
back button could show again. That answer is the one place where a POST is not followed by a redirect.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, g, make_response, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice, SelectMultipleField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services import descendant_customers, domains, resellers
from app.services.errors import Conflict, Invalid
from app.services.tenants import ref
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("reseller_subresellers", __name__, url_prefix="/reseller/sub-resellers")
guard(bp)

NAME_MISSING = "Enter the sub-reseller's name."
CODE_MISSING = "Enter a code for the sub-reseller."
CODE_WRONG = "Use 2 to 40 capital letters, digits or _, starting with a letter, like ABC_NORTH."
PERCENT_WRONG = "Enter a percentage from 0 to 100, like 8.00."
LIMIT_WRONG = "Enter a whole number of customers, or leave it empty for no limit."
USERNAME_MISSING = "Enter the first admin's username."
EMAIL_MISSING = "Enter the first admin's e-mail address."
EMAIL_WRONG = "Enter an e-mail address, like name@example.com."
TOO_LONG = "This is too long."
KIND_LABELS = {"internet": "Internet", "voice": "Voice", "recurring": "Recurring services", "bundle": "Bundles"}
# where the service's `field` of a refusal is shown in the form
FIELD_OF = {"parent_reseller_id": "parent", "commission_percent": "commission_percent",
            "customer_limit": "customer_limit", "allowed_services": "allowed_services", "level": "parent"}
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubResellerForm(FlaskForm):
    """"Sub-Reseller Creation" of 001 (parent, name, commission, inherited branding, customer limit, services),
    plus the tenant's code, an optional own domain and its first Admin (no password: one is generated)."""

    parent = SelectField(validate_choice=False)
    name = StringField(validators=[InputRequired(NAME_MISSING), Length(max=200, message=TOO_LONG)])
    code = StringField(validators=[InputRequired(CODE_MISSING), Regexp(r"^[A-Z][A-Z0-9_]{1,39}$", message=CODE_WRONG)],
                       filters=[lambda v: (v or "").strip().upper()])
    commission_percent = DecimalField(places=2, validators=[Optional(), NumberRange(0, 100, PERCENT_WRONG)],
                                      widget=TextInput())
    customer_limit = IntegerField(validators=[Optional(), NumberRange(0, 10_000_000, LIMIT_WRONG)], widget=TextInput())
    allowed_services = CheckboxesField(choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()],
                                       validate_choice=True)
    inherited_branding = BooleanField(default=True)
    host = StringField(validators=[Optional(), Length(max=253, message=TOO_LONG)])
    admin_username = StringField(validators=[InputRequired(USERNAME_MISSING), Length(max=254, message=TOO_LONG)])
    admin_email = EmailField(validators=[InputRequired(EMAIL_MISSING),
                                         Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL_WRONG)])
    admin_password = PasswordField(validators=[Optional(), Length(max=1024, message=TOO_LONG)])

    def offer(self, parents: list[tuple[int, str]]) -> SubResellerForm:
        self.parent.choices = [SelectChoice(str(i), label) for i, label in parents]
        if not self.parent.data:
            self.parent.data = str(parents[0][0])
        return self


def _wrong_number(form: SubResellerForm) -> None:
    """WTForms' own words for a value that is not a number are not ours (nor in the catalogue)."""
    for name, message in (("commission_percent", PERCENT_WRONG), ("customer_limit", LIMIT_WRONG)):
        if form[name].errors:
            form[name].errors = [message]


def _tree() -> list[dict]:
    """This reseller and every sub-reseller below it, depth-first, each with its figures (read in its schema)."""
    db = state().db
    return [{"row": row, "depth": depth, "figures": resellers.figures(db, ref(row)),
             "hosts": sorted(d.host for d in row.domains if d.verified_at)}
            for row, depth in resellers.subtree(db_session(), g.tenant.id)]


def _form() -> SubResellerForm:
    parents = [(item["row"].id, f"{'— ' * item['depth']}{item['row'].name} ({item['row'].code})")
               for item in _tree_rows()]
    return SubResellerForm().offer(parents)


def _tree_rows() -> list[dict]:
    return [{"row": row, "depth": depth} for row, depth in resellers.subtree(db_session(), g.tenant.id)]


@requires("resellers.manage", kinds=TEAM_KINDS)
def index():
    tree = _tree()
    own = tree[0]["figures"] if tree else resellers.Figures()
    consolidated = sum((item["figures"] for item in tree[1:]), own)
    return page("subresellers/index", tree=tree[1:], own=own, consolidated=consolidated,
                may_create=may_open("reseller_subresellers.create"), kinds=KIND_LABELS)


def _new_page(form: SubResellerForm, *, status: int = 200):
    return page("subresellers/new", status=status, form=form)


@requires("resellers.manage", kinds=TEAM_KINDS)
def new():
    return _new_page(_form())


@requires("resellers.manage", kinds=TEAM_KINDS)
def create():
    form = _form()
    if not form.validate_on_submit():
        if expired(form):
            flash(FORM_EXPIRED, "error")
            return redirect(url_for(".new"))
        _wrong_number(form)
        return _new_page(form, status=422)
    percent: Decimal | None = form.commission_percent.data
    try:
        created = resellers.create(
            state().db, code=form.code.data, name=form.name.data.strip(), base_domain=state().settings.base_domain,
            parent_id=int(form.parent.data), within=g.tenant.id, commission_percent=percent,
            inherited_branding=bool(form.inherited_branding.data), customer_limit=form.customer_limit.data,
            allowed_services=form.allowed_services.data or None,
            hosts=[form.host.data.strip()] if (form.host.data or "").strip() else [], hosts_verified=False,
            admin=resellers.AdminSpec(form.admin_username.data.strip(), form.admin_email.data.strip(),
                                      form.admin_password.data or None),
            actor=g.principal.actor)
    except (Invalid, Conflict) as exc:
        name = FIELD_OF.get(exc.extra.get("field"))
        if name is None and "code" in exc.detail:
            name = "code"
        elif name is None and "host" in exc.detail:
            name = "host"
        if name:
            form[name].errors = [exc.detail]
        else:
            form.form_errors.append(exc.detail)
        return _new_page(form, status=422)
    state().directory.invalidate()  # this process sees the new hosts at once; others on NOTIFY
    session = db_session()
    session.expire_all()
    host = domains.platform_host(session, created.tenant.id)
    answer = make_response(page("subresellers/created", created=created, host=host,
                                sign_in=f"{state().settings.public_url(host)}/reseller/login" if host else None))
    answer.headers.update(NO_STORE)
    return answer


@requires("resellers.manage", kinds=TEAM_KINDS)
def detail(code: str):
    session = db_session()
    row = resellers.descendant_by_code(session, g.tenant.id, code)
    db = state().db
    tree = resellers.subtree(session, row.id)
    figures = resellers.figures(db, ref(row))
    return page("subresellers/detail", row=row, level=resellers.level(session, row.id), figures=figures,
                consolidated=resellers.consolidated(db, [ref(r) for r, _ in tree]),
                children=[r for r, d in tree if d == 1], kinds=KIND_LABELS,
                hosts=sorted(d.host for d in row.domains if d.verified_at),
                pending=sorted(d.host for d in row.domains if not d.verified_at),
                may_see_customers=may_open("reseller_subreseller_customers.index")
                and descendant_customers.may_read(g.principal))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/new", "new", new)
bp.add_url_rule("", "create", create, methods=["POST"])
bp.add_url_rule("/<code>", "detail", detail)

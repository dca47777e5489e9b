"""Saved filters of the customer list (`/reseller/api/customers/saved-filters`): a team member's named
filters, and those colleagues shared with the team. Saved per user, so only a signed-in team member (not an
OAuth client) has them; saving under a name already used replaces that filter.

Reading them needs `customers.view`; saving and deleting, being writes, need `customers.edit` (no route that
changes state is opened by a read permission, so a Readonly member or a read-only token opens filters, shared
with them, but saves none)."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api.saved_filters import schemas as s
from app.api.visibility import principal
from app.services.auth.principal import USER
from app.services.customers import saved_filters
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("saved_filters", __name__, url_prefix="/reseller/api/customers/saved-filters",
                description="Saved filters of the customer list")
KINDS = (USER,)


def _out(found) -> dict:
    return {"id": found.id, "name": found.name, "filters": found.filters, "shared": found.shared,
            "mine": found.user_id == principal().id, "created_at": found.created_at, "updated_at": found.updated_at}


@blp.route("")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.SavedFilterOut(many=True))
def list_saved_filters():
    """The caller's saved filters, then the team's shared ones."""
    return [_out(f) for f in saved_filters.visible_to(db_session(), principal().id)]


@blp.route("", methods=["POST"])
@requires("customers.edit", kinds=KINDS)
@blp.arguments(s.SavedFilterIn)
@blp.response(201, s.SavedFilterOut)
def save_filter(body):
    """Save filters under a name (the caller's filter of that name, whatever its case, is replaced)."""
    return _out(saved_filters.save(db_session(), principal().id, body["name"], body["filters"],
                                   shared=body["shared"]))


@blp.route("/<int:filter_id>")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.SavedFilterOut)
def get_saved_filter(filter_id):
    """One saved filter: the caller's own or a shared one."""
    return _out(saved_filters.get(db_session(), principal().id, filter_id))


@blp.route("/<int:filter_id>", methods=["DELETE"])
@requires("customers.edit", kinds=KINDS)
@blp.response(204)
def delete_saved_filter(filter_id):
    """Delete one of the caller's filters (a colleague's shared filter is theirs: 409)."""
    saved_filters.delete(db_session(), principal().id, filter_id)

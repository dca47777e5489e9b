"""Saved filters of the reseller portal's customer list (tenant): a team member's named set of the list's
filters, reopened with one click; their own, and those a colleague shared with the team.

`filters` holds the list's query string as the API reads it (`status` a list, the rest text), never a
compiled query: a filter saved today reopens through the same validation as one typed today, so a filter
the list no longer takes is refused when it is opened rather than run as something else. A member's names
are unique whatever their case, so saving under a name they used again replaces that filter.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, Timestamps


class SavedFilter(Timestamps, TenantBase):
    """A named set of the customer list's filters, of one team member, shared with the team or not."""

    __tablename__ = "saved_filters"
    __table_args__ = (
        Index("uq_saved_filters_user_lower_name", "user_id", text("lower(name)"), unique=True),
        Index("ix_saved_filters_shared", "shared", postgresql_where=text("shared")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    filters: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    shared: Mapped[bool] = mapped_column(default=False, server_default="false")

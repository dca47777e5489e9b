"""White-label brands: what a tenant (or the platform) sets, and what its customers then see.

`own` is what an owner set itself; `brand_of` (resolve.py) is what applies, through inheritance. The
API, the console and previews change brands only through `update` and `upload`, which check every value
(fields.py, assets.py) and audit the change.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branding
from app.models import Tenant as TenantRow
from app.services import audit
from app.services.branding import assets, fields, theme_upload
from app.services.branding.resolve import Brand, brand_of, chain_levels, forget, merge, theme_folder
from app.services.errors import Conflict, NotFound

__all__ = ["Brand", "Owner", "brand_of", "own", "preview", "update", "upload", "install_theme", "remove_theme",
           "themes_of", "forget"]


@dataclass(frozen=True)
class Owner:
    """Whose brand: a tenant (id, schema, code) or, with all None, the platform."""

    tenant_id: int | None = None
    schema: str | None = None
    code: str | None = None

    @classmethod
    def of(cls, session: Session, tenant_id: int | None) -> Owner:
        if tenant_id is None:
            return cls()
        row = session.get(TenantRow, tenant_id)
        if row is None:
            raise NotFound("no such reseller")
        return cls(row.id, row.schema_name, row.code)

    @property
    def label(self) -> str:
        return self.code or "platform"


def _row(session: Session, owner: Owner, *, lock: bool = False) -> Branding | None:
    query = select(Branding).where(Branding.tenant_id.is_(None) if owner.tenant_id is None
                                   else Branding.tenant_id == owner.tenant_id)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def own(session: Session, owner: Owner) -> tuple[dict, bool, int]:
    """(fields set, white_label_enabled, version) of an owner; nothing set yet is ({}, True, 0)."""
    row = _row(session, owner)
    return (dict(row.fields), row.white_label_enabled, row.version) if row else ({}, True, 0)


def _theme_exists(owner: Owner):
    return lambda name: theme_folder(owner.schema, name) is not None


def update(session: Session, owner: Owner, changes: dict, *, white_label_enabled: bool | None = None,
           actor: str) -> Brand:
    """Apply checked `changes` (None unsets a field) and return the owner's resolved brand."""
    cleaned = fields.clean(changes, theme_exists=_theme_exists(owner))
    return _write(session, owner, cleaned, white_label_enabled, actor, action="branding.update")


def _write(session: Session, owner: Owner, cleaned: dict, white_label_enabled: bool | None, actor: str, *,
           action: str) -> Brand:
    row = _row(session, owner, lock=True)
    if row is None:
        row = Branding(tenant_id=owner.tenant_id, fields={}, white_label_enabled=True, version=0)
        session.add(row)
    merged = {**row.fields, **cleaned}
    row.fields = {k: v for k, v in merged.items() if v is not None}
    if white_label_enabled is not None:
        row.white_label_enabled = white_label_enabled
    row.version += 1
    row.updated_by = actor
    session.flush()
    audit.record(session, actor=actor, action=action, tenant_id=owner.tenant_id,
                 fields=sorted(cleaned), white_label_enabled=white_label_enabled)
    forget()
    return merge(chain_levels(session, owner.tenant_id))


def upload(session: Session, owner: Owner, kind: str, data: bytes, *, actor: str) -> Brand:
    """Store a logo or favicon (checked and cleaned by assets.py) and make it the owner's."""
    stored = assets.store(owner.schema, kind, data)
    return _write(session, owner, {kind: stored.as_field()}, None, actor, action=f"branding.{kind}")


def preview(session: Session, owner: Owner, changes: dict) -> Brand:
    """The brand as it would be with `changes`, checked as an update is, and saved nowhere."""
    cleaned = fields.clean(changes, theme_exists=_theme_exists(owner))
    return merge(chain_levels(session, owner.tenant_id), override=cleaned)


def install_theme(session: Session, owner: Owner, name: str, archive: bytes, *, actor: str) -> list[str]:
    if owner.schema is None:
        raise NotFound("the platform's themes are shipped as folders under themes/")
    theme_upload.install(owner.schema, name, archive)
    audit.record(session, actor=actor, action="branding.theme.upload", tenant_id=owner.tenant_id,
                 theme=name, bytes=len(archive))
    forget()
    return theme_upload.installed(owner.schema)


def remove_theme(session: Session, owner: Owner, name: str, *, actor: str) -> None:
    mine, _, _ = own(session, owner)
    if mine.get("theme") == name:
        raise Conflict(f"the theme {name!r} is in use; choose another theme first")
    if owner.schema is None or not theme_upload.remove(owner.schema, name):
        raise NotFound(f"no uploaded theme named {name!r}")
    audit.record(session, actor=actor, action="branding.theme.remove", tenant_id=owner.tenant_id,
                 theme=name)
    forget()


def themes_of(owner: Owner) -> list[str]:
    return theme_upload.installed(owner.schema) if owner.schema else []

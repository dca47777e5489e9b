"""OAuth 2 clients, authorization codes and tokens (public schema: a client is bound to one tenant).

Nothing secret is stored in clear: client secrets, codes, access and refresh tokens are kept as keyed
digests (app/services/auth/crypto.py), so a copy of these tables lets nobody call the API.

Codes and tokens carry the few read-only methods Authlib's grants call on them (`get_scope`,
`check_client`, ...), duck-typed so that the models import nothing of Authlib or of the services.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Identity, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import PublicBase, utcnow

GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


class OAuthClient(PublicBase):
    """A reseller integration or third-party app; it only ever acts within `tenant_id`."""

    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint("token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')",
                        name="auth_method"),
        CheckConstraint("grant_types <@ ARRAY['authorization_code', 'client_credentials', 'refresh_token']"
                        "::varchar[]", name="grant_types"),
        # a public client (no secret) cannot authenticate, so it may not act as itself
        CheckConstraint("(token_endpoint_auth_method = 'none') = (secret_digest IS NULL)", name="secret"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_digest: Mapped[str | None] = mapped_column(String(64))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    grant_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default="{}")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40), default="client_secret_basic",
                                                            server_default="client_secret_basic")
    created_by: Mapped[str] = mapped_column(String(300))  # the actor, as in the audit log
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    revoked_at: Mapped[datetime | None]


class OAuthCode(PublicBase):
    """An authorization code: single use, minutes long, bound to client, redirect URI and PKCE challenge."""

    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("public.oauth_clients.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int]  # a user of the tenant's schema: no foreign key across schemas
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class OAuthToken(PublicBase):
    """An access token and (for user grants) its refresh token.

    Every token of one grant shares a `family`: the code exchange starts one, each refresh adds a row
    whose `parent_id` is the row it rotated (`rotated_at` set there). Presenting a rotated refresh token
    again, or a used code, revokes the whole family.
    """

    __tablename__ = "oauth_tokens"
    __table_args__ = (
        Index("uq_oauth_tokens_refresh_digest", "refresh_digest", unique=True,
              postgresql_where=text("refresh_digest IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    access_digest: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_digest: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[int] = mapped_column(ForeignKey("public.oauth_clients.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None]  # None: the client acting as itself (client credentials)
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    expires_in: Mapped[int]  # seconds, of the access token
    refresh_expires_at: Mapped[datetime | None]
    access_revoked_at: Mapped[datetime | None]
    refresh_revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(100))
    family: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("public.oauth_codes.id", ondelete="SET NULL"),
                                                index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("public.oauth_tokens.id", ondelete="SET NULL"))
    rotated_at: Mapped[datetime | None]  # its refresh token was exchanged (once is all it gets)

    @property
    def access_expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def check_client(self, client) -> bool:
        return self.client_id == client.id

"""The engine and sessions. The tenant's schema is set per transaction by `tenants.session`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tenants import session as tenant_session


def sqlalchemy_url(url: str) -> str:
    """Accept the libpq spellings (postgres://, postgresql://) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 5, **kwargs) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        future=True,
        **kwargs,
    )
    return tenant_session.install(engine)


class Database:
    """One engine and its session factory for a process."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, **kwargs) -> Database:
        return cls(make_engine(url, **kwargs))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

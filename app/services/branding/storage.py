"""Where brand files live: under the data folder, one folder per tenant schema, one for the platform.

Paths are built from a schema name (validated by the tenant registry) and names this package makes
itself (content hashes, checked theme names), and every path is checked to stay inside its owner's
folder: a file of one tenant is never reachable through another's name.
"""

from __future__ import annotations

import os
from pathlib import Path

from tenants.schema import validate_schema

_root: Path | None = None


def configure(data_dir: str | Path) -> None:
    global _root
    _root = Path(data_dir).resolve()


def root() -> Path:
    if _root is None:
        configure(os.environ.get("BACKHAUL_DATA_DIR") or "data")
    return _root


def owner_folder(schema: str | None) -> Path:
    """The folder of a tenant's (or, for None, the platform's) brand files."""
    if schema is None:
        return root() / "platform"
    return root() / "tenants" / validate_schema(schema)


def inside(folder: Path, *parts: str) -> Path:
    base = folder.resolve()
    path = base.joinpath(*parts).resolve()
    if base not in path.parents:
        raise ValueError(f"{'/'.join(parts)!r} is not inside {base}")
    return path


def themes_root(schema: str | None) -> Path:
    return owner_folder(schema) / "themes"


def asset_path(schema: str | None, file_name: str) -> Path:
    return inside(owner_folder(schema) / "branding", file_name)

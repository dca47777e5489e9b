"""A theme uploaded as a zip: checked entry by entry before anything is written, then swapped in whole.

What a theme may hold is what a theme is: templates (`templates/**/*.html|.txt`), styles, images and
fonts (`static/**`). Refused, with the entry named: absolute paths, `..`, backslashes, symbolic links,
any other file type, more than MAX_FILES entries, an archive over MAX_ZIP bytes, contents over
MAX_UNPACKED bytes (counted as they are read, not trusted from the header), and templates that do not
compile. Templates run sandboxed (tenants/themes.py), so a template can show data, not reach Python.

The new theme is unpacked into a temporary folder beside the old one and renamed over it, so a page is
drawn from the old theme or the new one, never from half of each.
"""

from __future__ import annotations

import io
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from app.services.branding import storage
from app.services.branding.assets import clean_svg
from app.services.branding.fields import _THEME
from app.services.errors import Invalid

MAX_ZIP = 5 * 1024 * 1024
MAX_UNPACKED = 20 * 1024 * 1024
MAX_FILES = 500
TEMPLATE_SUFFIXES = {".html", ".txt"}
STATIC_SUFFIXES = {".css", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".woff", ".woff2", ".ttf",
                   ".otf"}


def install(schema: str, name: str, archive: bytes) -> Path:
    """Check `archive` and install it as the tenant's theme `name`; returns the theme's folder."""
    if not _THEME.match(name or "") or name == "base":
        raise Invalid("a theme name is 1-40 lower case letters, digits, - or _", field="name")
    if len(archive) > MAX_ZIP:
        raise Invalid(f"the theme archive is {len(archive):,} bytes; the most allowed is {MAX_ZIP:,}", field="file")
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile as exc:
        raise Invalid("the theme is not a zip archive", field="file") from exc
    with bundle:
        files = _checked_entries(bundle)
        contents = _read(bundle, files)
    _compile_templates(contents)
    return _swap_in(schema, name, contents)


def _checked_entries(bundle: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    entries = bundle.infolist()
    if len(entries) > MAX_FILES:
        raise Invalid(f"the theme has {len(entries)} entries; at most {MAX_FILES}", field="file")
    files = []
    for entry in entries:
        name = entry.filename
        path = PurePosixPath(name)
        if "\\" in name or name.startswith("/") or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            raise Invalid(f"the theme entry {name!r} points outside the theme", field="file")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise Invalid(f"the theme entry {name!r} is a symbolic link", field="file")
        if entry.is_dir():
            continue
        top = path.parts[0] if path.parts else ""
        suffix = path.suffix.lower()
        if top == "templates" and suffix in TEMPLATE_SUFFIXES or top == "static" and suffix in STATIC_SUFFIXES:
            files.append(entry)
            continue
        raise Invalid(f"the theme entry {name!r} is not allowed: a theme holds templates/*.html|.txt and "
                      "static/ styles, images and fonts", field="file")
    if not files:
        raise Invalid("the theme is empty: put templates under templates/ and files under static/", field="file")
    return files


def _read(bundle: zipfile.ZipFile, files: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    total = 0
    contents: dict[str, bytes] = {}
    for entry in files:
        with bundle.open(entry) as stream:
            chunks = []
            while chunk := stream.read(64 * 1024):
                total += len(chunk)
                if total > MAX_UNPACKED:
                    raise Invalid(f"the theme unpacks to more than {MAX_UNPACKED:,} bytes", field="file")
                chunks.append(chunk)
        data = b"".join(chunks)
        if entry.filename.lower().endswith(".svg"):
            clean_svg(data)
        contents[entry.filename] = data
    return contents


def _compile_templates(contents: dict[str, bytes]) -> None:
    environment = SandboxedEnvironment()
    for name, data in contents.items():
        if not name.startswith("templates/"):
            continue
        try:
            environment.parse(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise Invalid(f"the template {name!r} is not UTF-8 text", field="file") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise Invalid(f"the template {name!r} does not compile: {exc.message} (line {exc.lineno})",
                          field="file") from exc


def _swap_in(schema: str, name: str, contents: dict[str, bytes]) -> Path:
    root = storage.themes_root(schema)
    root.mkdir(parents=True, exist_ok=True)
    target = storage.inside(root, name)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    for entry, data in contents.items():
        path = storage.inside(staging, *PurePosixPath(entry).parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{name}-old-", dir=root))
        target.rename(old / "theme")
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def remove(schema: str, name: str) -> bool:
    if not _THEME.match(name or ""):
        raise Invalid("no such theme", field="name")
    target = storage.inside(storage.themes_root(schema), name)
    if not target.exists():
        return False
    shutil.rmtree(target)
    return True


def installed(schema: str) -> list[str]:
    root = storage.themes_root(schema)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

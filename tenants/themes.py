"""The theme chain: which template folders a tenant's pages, e-mails and documents are drawn from.

A chain is the tenant's own theme, then its parent's, and so on up to the master ISP's, then the
platform's `themes/base`. The first folder that has a template wins, so a theme overrides only what it
needs. A template can still reach past an override explicitly: `{% extends "base:layout.html" %}` is the
platform's own file, `{% extends "parent:layout.html" %}` is the same name looked up from the next
folder of the chain on (what the tenant's theme would have got without it).

Jinja caches compiled templates per environment under the template's name alone, so two tenants
sharing one environment would share `layout.html`. Each chain therefore gets its own environment: the
chain *is* the cache key, and a tenant can never be served a template compiled from another tenant's
theme. Environments are kept in a bounded LRU; tenants with the same chain (most of them, with no theme
of their own) share one.

Uploaded themes are sandboxed: a reseller's template is code, and the sandbox is what keeps it from
reaching Python objects. Every chain environment is sandboxed, shipped themes included, so a template
behaves the same wherever it comes from.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

THEMES_ROOT = Path(__file__).resolve().parent.parent / "themes"
BASE = THEMES_ROOT / "base"
_PREFIXES = ("base:", "parent:")
_MAX_ENVIRONMENTS = 256


@dataclass(frozen=True)
class ThemeChain:
    """The template folders of one tenant, most specific first; `base` is always last."""

    folders: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        folders = tuple(Path(f) for f in self.folders if Path(f) != BASE)
        object.__setattr__(self, "folders", (*folders, BASE))

    @property
    def templates(self) -> tuple[Path, ...]:
        return tuple(folder / "templates" for folder in self.folders)

    @property
    def statics(self) -> tuple[Path, ...]:
        return tuple(folder / "static" for folder in self.folders)

    def static_file(self, name: str) -> Path | None:
        """The first `static/<name>` along the chain, refusing names that climb out of a folder."""
        for root in self.statics:
            path = (root / name).resolve()
            if root.resolve() in path.parents and path.is_file():
                return path
        return None


BASE_CHAIN = ThemeChain()


class ChainLoader(jinja2.BaseLoader):
    """Looks a template up along the chain; `base:` and `parent:` pick a part of the chain explicitly."""

    def __init__(self, chain: ThemeChain):
        self.chain = chain
        self._loaders = [jinja2.FileSystemLoader(str(folder)) for folder in chain.templates]

    def _candidates(self, name: str) -> tuple[list[jinja2.FileSystemLoader], str]:
        if name.startswith("base:"):
            return self._loaders[-1:], name[len("base:"):]
        if name.startswith("parent:"):
            return self._loaders[1:], name[len("parent:"):]
        return self._loaders, name

    def get_source(self, environment: jinja2.Environment, template: str):
        loaders, name = self._candidates(template)
        for loader in loaders:
            try:
                return loader.get_source(environment, name)
            except jinja2.TemplateNotFound:
                continue
        raise jinja2.TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        found: set[str] = set()
        for loader in self._loaders:
            found.update(loader.list_templates())
        return sorted(found)


Configure = Callable[[jinja2.Environment], None]


class EnvironmentCache:
    """One sandboxed environment per (flavour, chain), built by the flavour's `configure` function."""

    def __init__(self, maximum: int = _MAX_ENVIRONMENTS):
        self.maximum = maximum
        self._entries: OrderedDict[tuple[str, ThemeChain], jinja2.Environment] = OrderedDict()
        self._flavours: dict[str, tuple[dict, Configure | None]] = {}
        self._lock = threading.Lock()

    def register(self, flavour: str, configure: Configure | None = None, **options) -> None:
        """Declare how environments of a flavour (pages, mail, documents) are made; re-registering
        a flavour drops its environments (the Flask app does so when it is created)."""
        with self._lock:
            self._flavours[flavour] = (options, configure)
            for key in [k for k in self._entries if k[0] == flavour]:
                del self._entries[key]

    def get(self, flavour: str, chain: ThemeChain = BASE_CHAIN) -> jinja2.Environment:
        key = (flavour, chain)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
            if flavour not in self._flavours:
                raise LookupError(f"no template flavour {flavour!r} is registered")
            options, configure = self._flavours[flavour]
        environment = SandboxedEnvironment(loader=ChainLoader(chain), **options)
        if configure is not None:
            configure(environment)
        with self._lock:
            environment = self._entries.setdefault(key, environment)
            while len(self._entries) > self.maximum:
                self._entries.popitem(last=False)
        return environment


environments = EnvironmentCache()

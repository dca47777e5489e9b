"""What the README and docs/ tell a newcomer to type is what Backhaul serves and runs.

A reader copies a route, a command, a variable or a file name from these pages and expects it to work: a
route the app does not serve is a 404 on their first try, a command that does not exist an error, a
variable nothing reads a setting silently ignored, a link out of the repository a dead end in a clone.
Each is checked against the code itself (the app's url_map, the click command tree, the sources, the
files), never against a list kept here, which would drift exactly as the pages did.

How the pages name a route (the forms read here):
- in code (a `…` span or a fenced block): a path beginning with `/`, optionally after its method(s)
  (`GET /reseller/api/invoices`, `GET|PUT …`, `GET/POST …`), when its first segment is one the app
  serves under (`/reseller`, `/oauth`, `/brand`, …) or when it is a page path of one segment (`/login`);
- the path of a URL on a demo host (`http://abc.localhost:8000/login`, `localhost:8000/api/v1/portal`);
- `<id>`, `<code>`, … stand for one path segment; `a|b` in a segment is each of a and b; `?…` is a query;
- `…/tail` is a route ending in `/tail` (the page named its beginning just before);
- a door's prefix alone (`/reseller/api`, `/console/auth`: a blueprint's prefix ending in `/api` or
  `/auth`) names that door, not a route.
"""

from __future__ import annotations

import glob
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from app.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# First segments checked even if the app stopped serving anything under them (then every mention is wrong).
ROUTE_ROOTS = {"console", "reseller", "portal", "oauth", ".well-known", "api", "brand", "webhooks", "healthz",
               "readyz", "login"}
METHOD = r"(?:GET|POST|PUT|PATCH|DELETE)"
PATH = r"(?:…)?/(?:<[^<>\n]*>|[\w.~|…/-])*"
BOUNDARY = r"(?<![^\s(\[\"'=])"  # at the start, or after a space, a bracket, a quote or `=`
IN_CODE = re.compile(rf"{BOUNDARY}(?:(?P<methods>{METHOD}(?:[|/]{METHOD})*)\s+)?(?P<path>{PATH})")
DEMO_URL = re.compile(rf"(?<![\w.-])(?:https?://)?(?:[a-z0-9-]+\.)*localhost(?::\d+)?(?P<path>{PATH})")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
SPAN = re.compile(r"`((?:[^`\n]|\n(?![ \t]*\n))+)`")
PLACEHOLDER = re.compile(r"<[^<>]*>")

SOURCES = ("app", "worker", "radius", "tenants", "migrations", "scripts", "tests")  # tests: the test run's own settings
REPO_FOLDERS = ("app", "tenants", "worker", "radius", "migrations", "themes", "bench", "tests", "docs", "scripts")


@dataclass(frozen=True)
class Mention:
    page: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def code_parts(text: str) -> list[tuple[int, str]]:
    """(offset, text) of every fenced block and every inline code span."""
    parts = [(m.start(1), m.group(1)) for m in FENCE.finditer(text)]
    prose = FENCE.sub(lambda m: " " * len(m.group(0)), text)  # keep offsets, drop the fences' contents
    parts += [(m.start(1), m.group(1)) for m in SPAN.finditer(prose)]
    return parts


def _page_texts():
    for page in PAGES:
        yield page, page.relative_to(ROOT).as_posix(), page.read_text(encoding="utf-8")


# -- routes ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteMention:
    where: Mention
    methods: tuple[str, ...]
    path: str


def _clean_path(path: str) -> str:
    return path.rstrip(".|")


def route_mentions(text: str, page: str, roots: set[str]) -> list[RouteMention]:
    found: dict[tuple, RouteMention] = {}

    def add(offset: int, methods: str | None, path: str) -> None:
        path = _clean_path(path)
        names = tuple(re.split(r"[|/]", methods)) if methods else ()
        key = (_line(text, offset), names, path)
        found.setdefault(key, RouteMention(Mention(page, key[0], f"{methods + ' ' if methods else ''}{path}"),
                                           names, path))

    for offset, part in code_parts(text):
        for m in IN_CODE.finditer(part):
            path = _clean_path(m.group("path"))
            segments = path.removeprefix("…").strip("/").split("/")
            if path.startswith("…") or segments[0] in roots or (len(segments) == 1 and segments[0]):
                add(offset + m.start(), m.group("methods"), path)
    for m in DEMO_URL.finditer(text):
        add(m.start(), None, m.group("path"))
    return sorted(found.values(), key=lambda r: (r.where.line, r.path))


def _expand(path: str) -> list[str]:
    """The paths a mention stands for, each `a|b` segment expanded (placeholders kept)."""
    return ["/".join(choice) for choice in itertools.product(*(s.split("|") for s in path.split("/")))]


def _is_variable(segment: str) -> bool:
    return PLACEHOLDER.fullmatch(segment) is not None


def _segment_matches(named: str, rule_segment: str) -> bool:
    """A page's segment against a url_map one: a placeholder only where the rule has a variable, a word
    only where the rule has that word (`…/stk` is not `…/<token>`)."""
    if _is_variable(named):
        return _is_variable(rule_segment)
    if _is_variable(rule_segment):
        return False
    pattern = "".join("[^/]+" if part.startswith("<") else re.escape(part)
                      for part in re.split(r"(<[^<>]*>)", rule_segment))
    return re.fullmatch(pattern, PLACEHOLDER.sub("1", named)) is not None


class Routes:
    def __init__(self, app):
        self.adapter = app.url_map.bind("localhost")
        self.rules = [(rule.rule.split("/")[1:], rule.methods) for rule in app.url_map.iter_rules()]
        self.roots = ROUTE_ROOTS | {segments[0] for segments, _ in self.rules} - {""}
        self.doors = {bp.url_prefix for bp in app.blueprints.values()
                      if bp.url_prefix and bp.url_prefix.rsplit("/", 1)[-1] in ("api", "auth")}

    def _why_not(self, path: str, method: str | None) -> str | None:
        """None when the app serves `path` (with `method`, if given), else why not."""
        try:
            self.adapter.match(PLACEHOLDER.sub("1", path), method=method or "GET")
        except MethodNotAllowed:
            return None if method is None else f"not {method}"
        except RequestRedirect as redirect:
            return f"only as {redirect.new_url.removeprefix('http://localhost')}"
        except NotFound:
            return "not served"
        return None

    def _why_not_ending(self, tail: str, method: str | None) -> str | None:
        """The same for `…/tail`: some route, longer than the tail, ends with it."""
        named = tail.split("/")[1:]
        methods = [m for segments, m in self.rules if len(segments) > len(named)
                   and all(_segment_matches(n, r) for n, r in zip(named, segments[-len(named):], strict=True))]
        if not methods:
            return "not served"
        return None if method is None or any(method in m for m in methods) else f"not {method}"

    def problems(self, mention: RouteMention) -> list[str]:
        if not mention.methods and mention.path in self.doors:
            return []
        ending = mention.path.startswith("…")
        problems = []
        for path in _expand(mention.path.removeprefix("…")):
            for method in mention.methods or (None,):
                reason = self._why_not_ending(path, method) if ending else self._why_not(path, method)
                if reason is not None:
                    problems.append(f"{method + ' ' if method else ''}{'…' if ending else ''}{path}: {reason}")
        return problems


@pytest.fixture(scope="module")
def routes(app) -> Routes:
    return Routes(app)


def test_every_route_the_pages_name_is_served(routes):
    unknown, checked = [], 0
    for _, name, text in _page_texts():
        for mention in route_mentions(text, name, routes.roots):
            checked += 1
            unknown += [f"{mention.where.page}:{mention.where.line}: {problem}" for problem in routes.problems(mention)]
    assert checked > 100  # the README names well over a hundred routes: the extraction did its job
    assert not unknown, "routes named in README.md/docs that the app does not serve:\n" + "\n".join(unknown)


def test_the_route_check_reads_the_forms_the_pages_use(routes):
    """The checker itself: what it must accept and what it must refuse, on text written like the README's."""
    text = "\n".join([
        "See `GET /reseller/api/invoices`, `…/invoices/<id>/pdf`, `GET|PUT …/usage-thresholds` and",
        "`/reseller/api/services/<id>/activate|suspend` under `/reseller/api`; the sign-in page",
        "http://abc.localhost:8000/login and `localhost:8000/api/v1/portal`; a problem `/problems/not-found`.",
        "Wrong: `/console/api/resellers`, `DELETE /reseller/api/roles`, `/entries`, `…/no-such-thing`,",
        "`POST /reseller/api/services/<id>/activate|explode`.",
    ])
    found = {m.path: routes.problems(m) for m in route_mentions(text, "sample.md", routes.roots)}
    assert "/problems/not-found" not in found  # not a route: a problem type
    assert found["/reseller/api/invoices"] == [] and found["…/invoices/<id>/pdf"] == []
    assert found["…/usage-thresholds"] == [] and found["/reseller/api/services/<id>/activate|suspend"] == []
    assert found["/reseller/api"] == [] and found["/login"] == [] and found["/api/v1/portal"] == []
    assert found["/console/api/resellers"] == ["/console/api/resellers: not served"]
    assert found["/reseller/api/roles"] == ["DELETE /reseller/api/roles: not DELETE"]
    assert found["/entries"] == ["/entries: not served"]
    assert found["…/no-such-thing"] == ["…/no-such-thing: not served"]
    assert found["/reseller/api/services/<id>/activate|explode"] == [
        "POST /reseller/api/services/<id>/explode: not served"]


# -- commands, variables, files, links --------------------------------------------------------------------

COMMAND = re.compile(r"(?:(?<=^)|(?<=[\s`])|(?<=bin/))backhaul(?=[ \t]|$)(?P<rest>[^\n`#]*)", re.M)
HELP = {"-h", "--help"}


def _option_names(command: click.Command) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)} | HELP


def _walk(command: click.Command, words: list[str], said: str) -> tuple[click.Command, list[str]]:
    """Follow `words` down the command tree; returns where it ended and what is wrong on the way."""
    problems = []
    for word in words:
        word = word.strip("[]")
        if word.startswith("-"):
            option = word.split("=")[0]
            if option not in _option_names(command):
                problems.append(f"`{said}`: {command.name} has no option {option}")
            continue
        if isinstance(command, click.Group):
            names = word.split("|")
            missing = [name for name in names if name not in command.commands]
            if missing:
                under = "backhaul" if command is cli else command.name
                problems.append(f"`{said}`: no command {' '.join(missing)} under {under}")
                return command, problems
            if len(names) > 1:  # `nas add|list|remove`: alternatives end the walk
                return command, problems
            command = command.commands[word]
    return command, problems


def command_problems(said: str) -> list[str]:
    """`tenants list | show CODE | suspend CODE --reason …`: the first clause from the top, the others
    as siblings of its last command."""
    clauses = [c.split() for c in re.split(r"\s+\|\s+", said.strip())]
    problems = _walk(cli, clauses[0], said)[1]
    if len(clauses) > 1 and clauses[0]:
        path = [w for w in clauses[0] if not w.startswith(("-", "["))]
        parent, _ = _walk(cli, path[:-1], said)
        for clause in clauses[1:]:
            problems += _walk(parent, clause, said)[1]
    return problems


def test_every_command_the_pages_name_exists():
    problems, seen = [], 0
    for _, name, text in _page_texts():
        for offset, part in code_parts(text):
            for m in COMMAND.finditer(part):
                seen += 1
                problems += [f"{name}:{_line(text, offset + m.start())}: {p}"
                             for p in command_problems(m.group("rest"))]
    assert seen > 10
    assert not problems, "commands named in README.md/docs that `backhaul` does not have:\n" + "\n".join(problems)


def test_the_command_check_reads_the_forms_the_pages_use():
    assert command_problems(" tenants list | show CODE | suspend CODE --reason … | activate CODE") == []
    assert command_problems(" radius [--host 0.0.0.0] [--processes N]") == []
    assert command_problems(" nas add|list|remove") == []
    assert command_problems(" tenants list | show CODE | explode CODE") == [
        "` tenants list | show CODE | explode CODE`: no command explode under tenants"]
    assert command_problems(" radius --colour") == ["` radius --colour`: radius has no option --colour"]
    assert command_problems(" nas add|zap") == ["` nas add|zap`: no command zap under nas"]
    assert command_problems(" reseller create") == ["` reseller create`: no command reseller under backhaul"]


def test_make_targets_the_pages_name_exist():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = {(name, target) for _, name, text in _page_texts() for _, part in code_parts(text)
             for target in re.findall(r"(?<![\w/.-])make[ \t]+([a-z][\w-]*)", part)}
    assert named, "the README's two commands are `make run` and `make test`"
    assert not {n for n in named if n[1] not in targets}, targets


VARIABLE = re.compile(r"\b(?:BACKHAUL_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL|REDIS_URL|SECRET_KEY)\b")


def test_every_environment_variable_the_pages_name_is_read():
    code = "\n".join(path.read_text(encoding="utf-8") for folder in SOURCES for path in (ROOT / folder).rglob("*.py")
                     if path.name != "test_readme.py")  # its own examples read nothing
    code += (ROOT / "Makefile").read_text()
    read = set(re.findall(r"[\"']([A-Z][A-Z0-9_]+)[\"']", code))
    named = {(name, var) for _, name, text in _page_texts() for var in VARIABLE.findall(text)}
    assert len(named) > 10
    unread = sorted(f"{page}: {var}" for page, var in named if var not in read)
    assert not unread, "environment variables named in README.md/docs that no code reads:\n" + "\n".join(unread)


REPO_PATH = re.compile(rf"{BOUNDARY}(?P<path>(?:{'|'.join(REPO_FOLDERS)})/[\w.*<>…/-]*)")


def test_every_repository_file_the_pages_name_exists():
    missing = []
    for _, name, text in _page_texts():
        for offset, part in code_parts(text):
            for m in REPO_PATH.finditer(part):
                pattern = re.sub(r"<[^<>]*>|…", "*", m.group("path").rstrip("."))
                if not glob.glob(str(ROOT / pattern)):
                    missing.append(f"{name}:{_line(text, offset + m.start())}: {m.group('path')}")
    assert not missing, "files named in README.md/docs that the repository does not have:\n" + "\n".join(missing)


LINK = re.compile(r"\[[^\]\n]*\]\((?P<target>[^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    return {_anchor(h) for h in re.findall(r"^#+\s+(.*)$", FENCE.sub("", text), re.M)}


def test_links_stay_in_the_repository_and_lead_somewhere():
    """A clone has only the repository: a link or a path that climbs out of it (`../shared/…`) is a dead end."""
    broken = []
    for page, name, text in _page_texts():
        targets = [(m.start(), m.group("target")) for m in LINK.finditer(text)]
        targets += [(offset, part.split()[0]) for offset, part in code_parts(text) if part.startswith("../")]
        for offset, target in targets:
            if re.match(r"[a-z][a-z+.-]*:", target):  # http:, mailto: …
                continue
            file_part, _, anchor = target.partition("#")
            found = (page.parent / file_part).resolve() if file_part else page
            if found != ROOT and ROOT not in found.parents:
                broken.append(f"{name}:{_line(text, offset)}: {target} is outside the repository")
            elif not found.exists():
                broken.append(f"{name}:{_line(text, offset)}: {target} does not exist")
            elif anchor and found.suffix == ".md" and anchor not in _anchors(found.read_text(encoding="utf-8")):
                broken.append(f"{name}:{_line(text, offset)}: {target} names no heading of {found.name}")
    assert not broken, "\n".join(broken)


def test_the_readme_leads_to_the_architecture_document():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in {m.group("target").partition("#")[0] for m in LINK.finditer(readme)}

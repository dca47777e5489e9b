"""The browser rig of the portals' tests: Debian's chromium driven by Playwright, one browser per test process
(one per xdist worker), a new context per test; the app served over real HTTP from a thread, every host name
resolved to 127.0.0.1 by chromium itself; axe-core run in the page; screenshots of every page a test looks at.

Screenshots go to the folder `BACKHAUL_SCREENSHOTS` names (docs/screenshots/ is the one committed):
`<name>-desktop.png` at 1280 px and `<name>-mobile.png` at 360 px, full page. Without it none is taken: a
full-page capture at two widths of every page looked at was a good part of the suite's time, for files
nobody opened.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BACKHAUL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP * 127.0.0.1"]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 740}
BLOCKING = ("serious", "critical")
# Every image loaded, a <picture>'s being the source its media query picks at this width.
IMAGES_LOADED = """() => [...document.images].every(i => {
    if (!i.complete) return false;
    const picture = i.parentElement;
    if (!picture || picture.tagName !== "PICTURE") return true;
    const source = [...picture.querySelectorAll("source")].find(s => !s.media || matchMedia(s.media).matches);
    return i.currentSrc === (source ? new URL(source.srcset, location.href).href : i.src);
})"""


def launch(playwright):
    if not Path(CHROMIUM).is_file():
        message = f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


class LiveServer:
    """The app on a free port of 127.0.0.1, served by werkzeug in a thread, for the whole session."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


@dataclass
class Watch:
    """What went wrong in a page that a test would not see: a policy that refused something, a script error."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))

    def policy_refusals(self) -> list[str]:
        return [p for p in self.problems if "Content Security Policy" in p or "Refused to" in p]


def screenshot_dir() -> Path | None:
    named = os.environ.get("BACKHAUL_SCREENSHOTS")
    if not named:
        return None
    folder = Path(named)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response.get("violations", [])
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:5])}"
            for v in found if v.get("impact") in BLOCKING]


class Looker:
    """`look(page, name)`: axe clean at both widths, and a screenshot at each when there is a folder for them."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def __call__(self, page, name: str) -> None:
        name = re.sub(r"[^a-z0-9_-]+", "-", name.lower())
        size = page.viewport_size or DESKTOP
        problems = []
        for label, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
            page.set_viewport_size(viewport)
            page.wait_for_function(IMAGES_LOADED)  # a <picture> loads the drawing for the new width
            if self.folder is not None:
                page.screenshot(path=str(self.folder / f"{name}-{label}.png"), full_page=True)
            problems += [f"{label}: {p}" for p in axe_violations(page)]
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"]:
                problems.append(f"{label}: the page scrolls sideways ({wide} px wide at {viewport['width']} px)")
        page.set_viewport_size(size)
        assert not problems, f"{name}:\n" + "\n".join(problems)


def fetch(page, path: str, headers: dict | None = None) -> dict:
    """A GET from inside the page (its cookies, chromium's host mapping): status, content type and text."""
    return page.evaluate("""async ([path, headers]) => {
        const r = await fetch(path, {headers: headers || {}, credentials: "same-origin"});
        return {status: r.status, type: r.headers.get("content-type") || "", text: await r.text()};
    }""", [path, headers])


def drawn(image, timeout: float = 10.0) -> bool:
    """Whether an <img> arrives and decodes within `timeout` seconds. An image is a request of its own, which may
    still be on its way when the page that names it has loaded: asking at once made tests fail under load.
    Polled from here, not with wait_for_function: that runs in the page, and some tests turn its script off."""
    deadline = time.monotonic() + timeout
    while True:
        if image.evaluate("i => i.complete && i.naturalWidth > 0"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def post_form(page, path: str, fields: dict) -> int:
    """A form POST from inside the page (its cookies), as a hand-made request would send it: the status, or 0
    for a redirect (not followed: a fetch sees no more of it)."""
    return page.evaluate("""async ([path, fields]) => {
        const r = await fetch(path, {method: "POST", body: new URLSearchParams(fields), credentials: "same-origin",
                                     redirect: "manual"});
        return r.status;
    }""", [path, fields])

"""A device as a person recognises it in their list of sessions: "Chrome on Android", not a 150-character
user-agent string. Only the browser and the system are named, from the agent's own words; anything else is
shown as it was sent, shortened, so an unusual client is still there to be recognised (or ended)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# the first match wins: Edge and Opera say "Chrome" too, Chrome says "Safari" too
_BROWSERS = (("Edg/", "Edge"), ("EdgA/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
             ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari"), ("curl/", "curl"), ("python-", "Python"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("CrOS", "ChromeOS"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"))
_SHOWN = 60
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Device:
    browser: str | None
    system: str | None
    raw: str | None  # the agent as sent, shortened, for what is recognised as neither

    @property
    def known(self) -> bool:
        return bool(self.browser or self.system)


def describe(user_agent: str | None) -> Device:
    agent = _SPACES.sub(" ", user_agent or "").strip()
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    raw = (agent[:_SHOWN] + "…" if len(agent) > _SHOWN else agent) or None
    return Device(browser, system, raw)

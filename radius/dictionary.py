"""Backhaul's RADIUS dictionary (the files in `radius/dictionary/`), loaded once per process.

Our own files rather than the system's FreeRADIUS ones, so that the server does not depend on what a
distribution ships, and so that what we speak (vendors, Acct-*, CoA's Error-Cause) is written down here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pyrad.dictionary import Dictionary

DICTIONARY_DIR = Path(__file__).resolve().parent / "dictionary"
MAIN = DICTIONARY_DIR / "dictionary"


@cache
def load() -> Dictionary:
    """The parsed dictionary; the same object on every call in a process (pyrad's parse is slow)."""
    return Dictionary(str(MAIN))

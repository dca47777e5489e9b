#!/usr/bin/env python3
"""Set up and run Backhaul from a fresh checkout with nothing but Python 3.11+.

    python3 scripts/bootstrap.py run     # install, start embedded services if needed, migrate, seed, serve
    python3 scripts/bootstrap.py test    # install (with test tools) and run the test suite

`make run` and `make test` call this. The virtual environment is `.venv/` (or $BACKHAUL_VENV); it is
(re)installed whenever pyproject.toml changes. Extra arguments go to `backhaul run` or to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("BACKHAUL_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_installed(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs under whatever python3 is first)
        sys.exit(f"Backhaul needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".backhaul-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print(f"creating the virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing Backhaul and its dependencies (first run takes a minute)", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-e", target], cwd=ROOT, check=True)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "install"):
        print(__doc__)
        return 2
    what, rest = argv[0], argv[1:]
    ensure_installed("test")  # one environment for both: running the tests never reinstalls
    os.chdir(ROOT)
    if what == "install":
        return 0
    if what == "run":
        os.execv(str(BIN / "backhaul"), [str(BIN / "backhaul"), "run", "--demo", *rest])
    os.execv(str(BIN / "python"), [str(BIN / "python"), "-m", "pytest", *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

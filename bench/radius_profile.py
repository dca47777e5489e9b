"""Where the time goes in Backhaul's RADIUS server: one process under a fixed load, profiled with cProfile
inside the work it does per datagram (`RadiusServer.handle_auth` on the authentication thread, `handle_acct`
per accounting batch), from SIGUSR1 (sent once the warm-up is over) until it stops.

cProfile run the usual way (`python -m cProfile`) sees only the main thread, which here just waits; the
handlers are wrapped instead, in the profiled process only, by a small launcher script written next to the
output, so the profiles hold the serving work and not the waiting in select(). Used by
`bench/radius.py --profile DIR`.
"""

from __future__ import annotations

import io
import json
import pstats
import sys
from pathlib import Path

LAUNCHER = '''
import cProfile, gc, json, signal, os, sys, time
from radius import server as srv
from radius.runner import Options, _serve_one

out = sys.argv[1]
profiles = {}
HANDLERS = ("handle_auth", "handle_acct")


def wrap(name):
    original = getattr(srv.RadiusServer, name)

    def profiled(self, *args):
        profile = profiles.get(name)
        if profile is None:
            return original(self, *args)
        profile.enable()
        try:
            return original(self, *args)
        finally:
            profile.disable()

    setattr(srv.RadiusServer, name, profiled)


pauses = []  # (generation, seconds, objects collected): garbage collection stops every thread


def timed_gc(phase, info):
    if phase == "start":
        timed_gc.started = time.perf_counter()
    elif profiles:
        pauses.append((info["generation"], time.perf_counter() - timed_gc.started, info["collected"]))


def start(*_):
    profiles.update({name: cProfile.Profile() for name in HANDLERS})
    pauses.clear()


gc.callbacks.append(timed_gc)


for name in HANDLERS:
    wrap(name)
signal.signal(signal.SIGUSR1, start)
_serve_one(os.environ["DATABASE_URL"], Options(host="127.0.0.1", auth_port=int(sys.argv[2]),
                                               acct_port=int(sys.argv[3]), processes=1))
for name, profile in profiles.items():
    profile.dump_stats(out + "." + name + ".pstats")
with open(out + ".gc.json", "w") as f:
    json.dump({"pauses": pauses, "objects_tracked": len(gc.get_objects())}, f)
'''


def argv(folder: Path, auth_port: int, acct_port: int) -> list[str]:
    """The command that serves like `backhaul radius --processes 1`, profiled; dumps into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "profiled_radius.py"
    script.write_text(LAUNCHER)
    return [sys.executable, str(script), str(folder / "backhaul-radius"), str(auth_port), str(acct_port)]


def gc_pauses(folder: Path) -> dict | None:
    """Garbage collections while profiled: how many per generation, the longest, the total."""
    path = folder / "backhaul-radius.gc.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    out = {"objects_tracked_at_exit": data["objects_tracked"]}
    for generation in (0, 1, 2):
        mine = [p[1] for p in data["pauses"] if p[0] == generation]
        out[f"gen{generation}"] = {"count": len(mine), "max_ms": max(mine, default=0.0) * 1000,
                                   "total_ms": sum(mine) * 1000}
    return out


def summary(folder: Path, top: int = 25) -> dict[str, str]:
    """The `top` functions by own time and by cumulative time, per serving thread, as text."""
    out = {}
    for path in sorted(folder.glob("backhaul-radius.handle_*.pstats")):
        text = io.StringIO()
        stats = pstats.Stats(str(path), stream=text)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        out[path.name.split(".")[1]] = text.getvalue()
    return out

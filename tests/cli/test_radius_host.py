"""Where RADIUS listens: on loopback unless configured, like the web, so a development machine opens no UDP port
to the network; BACKHAUL_RADIUS_HOST is the production address and `backhaul radius --host` overrides it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from app.config import Settings
from tests.cli.sockets import udp_listeners
from tests.radius.conftest import free_udp_ports, wait_for


def test_the_radius_address_is_loopback_unless_configured(tmp_path):
    base = {"BACKHAUL_DATA_DIR": str(tmp_path), "SECRET_KEY": "k"}
    assert Settings.from_env(base).radius_host == "127.0.0.1"
    assert Settings.from_env({**base, "BACKHAUL_RADIUS_HOST": "0.0.0.0"}).radius_host == "0.0.0.0"  # noqa: S104


def test_backhaul_radius_binds_loopback_by_default_the_configured_address_or_the_one_given(test_env):
    env = {key: value for key, value in os.environ.items() if key != "BACKHAUL_RADIUS_HOST"}
    env.update(test_env, BACKHAUL_RADIUS_PRELOAD="0")
    cases = {  # (BACKHAUL_RADIUS_HOST, --host) → where it must listen
        (None, None): "127.0.0.1",
        ("127.0.0.2", None): "127.0.0.2",
        ("127.0.0.2", "127.0.0.3"): "127.0.0.3",
    }
    started = []
    try:
        for (configured, given), expected in cases.items():
            auth_port, acct_port = free_udp_ports()
            argv = [sys.executable, "-c", "from app.cli import main; main()", "radius",
                    "--auth-port", str(auth_port), "--acct-port", str(acct_port), *(["--host", given] if given else [])]
            proc = subprocess.Popen(argv, env={**env, **({"BACKHAUL_RADIUS_HOST": configured} if configured else {})},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append((proc, auth_port, acct_port, expected))
        for proc, auth_port, acct_port, expected in started:
            assert wait_for(lambda p=auth_port: udp_listeners(p), timeout=60), proc.poll()
            assert udp_listeners(auth_port) == {expected}
            assert udp_listeners(acct_port) == {expected}
    finally:
        for proc, *_ in started:
            proc.send_signal(signal.SIGTERM)
        for proc, *_ in started:
            proc.wait(timeout=30)

"""Every setting, read from the environment in this one module (twelve-factor).

| variable | default | meaning |
| --- | --- | --- |
| DATABASE_URL | embedded PostgreSQL under the data folder | the PostgreSQL to use |
| REDIS_URL | embedded Redis under the data folder | the Redis for the job queue and caches |
| BACKHAUL_DATA_DIR | ./data | embedded services, the generated secret key, uploaded files |
| BACKHAUL_BASE_DOMAIN | localhost | platform sub-domains are `<code>.<base domain>` |
| BACKHAUL_CONSOLE_HOST | console.<base domain> | the master ISP's console host |
| SECRET_KEY | generated once into the data folder | signs sessions and tokens |
| BACKHAUL_TRUSTED_PROXIES | (none) | comma-separated CIDRs whose X-Forwarded-Host is believed |
| BACKHAUL_HTTP_HOST / BACKHAUL_HTTP_PORT | 127.0.0.1 / 8000 | where `backhaul run` serves the web |
| BACKHAUL_RADIUS_HOST | 127.0.0.1 | where RADIUS listens (`run`, `radius`); routers need an address they reach |
| BACKHAUL_WEB_WORKERS / BACKHAUL_WORKER_THREADS | 2 / 4 | web processes, worker threads |
| BACKHAUL_DB_POOL_SIZE | 5 | connections per process |
| BACKHAUL_LOG_LEVEL | INFO | |
| BACKHAUL_SMTP_URL | (none: `backhaul run` catches it) | smtp://user:pass@host, smtp+starttls://…:587, smtps://…:465 |
| BACKHAUL_MAIL_FROM | Backhaul <no-reply@<base domain>> | the From address of every e-mail |
| BACKHAUL_DNS_NAMESERVERS | the system resolver | comma-separated `ip[:port]` asked to verify custom domains |
| BACKHAUL_DNS_TIMEOUT | 3 | seconds a domain verification waits for a DNS answer |
| BACKHAUL_PUBLIC_SCHEME / _PORT | https (on *.localhost: http, the HTTP port) | how customers reach us (e-mail links) |
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from tenants.hosts import Network, parse_proxies


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


def _seconds(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 60:
        raise SystemExit(f"{name} must be a number of seconds between 0 and 60, got {raw!r}")
    return value


def _nameservers(env: dict, name: str) -> tuple[tuple[str, int], ...]:
    """`ip[:port]` items; a bare IPv6 address has no port (its colons are the address's own)."""
    servers = []
    for item in (env.get(name) or "").split(","):
        item = item.strip()
        if not item:
            continue
        address, port = item, "53"
        if item.startswith("["):
            address, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ("53" if not rest else "")
        elif item.count(":") == 1:
            address, _, port = item.partition(":")
        try:
            ip = ipaddress.ip_address(address)
            number = int(port)
        except ValueError:
            ip, number = None, 0
        if ip is None or not 0 < number < 65536:
            raise SystemExit(f"{name}: {item!r} is not an ip[:port] (IPv6 with a port: [ip]:port)")
        servers.append((str(ip), number))
    return tuple(servers)


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    redis_url: str | None
    data_dir: Path
    base_domain: str
    console_host: str
    secret_key: str
    trusted_proxies: tuple[Network, ...] = ()
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    radius_host: str = "127.0.0.1"  # loopback like the web: a development machine opens no UDP port to the network
    web_workers: int = 2
    worker_threads: int = 4
    db_pool_size: int = 5
    log_level: str = "INFO"
    smtp_url: str | None = None
    mail_from: str = "Backhaul <no-reply@localhost>"
    dns_nameservers: tuple[tuple[str, int], ...] = ()  # () = the system resolver
    dns_timeout: float = 3.0
    public_scheme: str = "https"  # how customers reach us (TLS is terminated in front, see the README)
    public_port: int | None = None
    extra: dict = field(default_factory=dict)

    def public_url(self, host: str) -> str:
        """The address of a host as a customer's browser or mail client reaches it (links, logos)."""
        default = {"http": 80, "https": 443}.get(self.public_scheme)
        port = f":{self.public_port}" if self.public_port and self.public_port != default else ""
        return f"{self.public_scheme}://{host}{port}"

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("BACKHAUL_DATA_DIR") or "data").resolve()
        base_domain = (env.get("BACKHAUL_BASE_DOMAIN") or "localhost").strip().lower().rstrip(".")
        local = base_domain == "localhost" or base_domain.endswith(".localhost")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=data_dir,
            base_domain=base_domain,
            console_host=(env.get("BACKHAUL_CONSOLE_HOST") or f"console.{base_domain}").strip().lower(),
            secret_key=env.get("SECRET_KEY") or _stored_secret(data_dir),
            trusted_proxies=parse_proxies(env.get("BACKHAUL_TRUSTED_PROXIES")),
            http_host=env.get("BACKHAUL_HTTP_HOST") or "127.0.0.1",
            http_port=_int(env, "BACKHAUL_HTTP_PORT", 8000),
            radius_host=(env.get("BACKHAUL_RADIUS_HOST") or "127.0.0.1").strip(),
            web_workers=_int(env, "BACKHAUL_WEB_WORKERS", 2),
            worker_threads=_int(env, "BACKHAUL_WORKER_THREADS", 4),
            db_pool_size=_int(env, "BACKHAUL_DB_POOL_SIZE", 5),
            log_level=(env.get("BACKHAUL_LOG_LEVEL") or "INFO").upper(),
            smtp_url=env.get("BACKHAUL_SMTP_URL") or None,
            mail_from=env.get("BACKHAUL_MAIL_FROM") or f"Backhaul <no-reply@{base_domain}>",
            dns_nameservers=_nameservers(env, "BACKHAUL_DNS_NAMESERVERS"),
            dns_timeout=_seconds(env, "BACKHAUL_DNS_TIMEOUT", 3.0),
            public_scheme=(env.get("BACKHAUL_PUBLIC_SCHEME") or ("http" if local else "https")).lower(),
            public_port=_int(env, "BACKHAUL_PUBLIC_PORT", _int(env, "BACKHAUL_HTTP_PORT", 8000) if local else 0)
            or None,
        )

    def with_urls(self, database_url: str, redis_url: str | None) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)


def _stored_secret(data_dir: Path) -> str:
    """A secret generated on first use and kept in the data folder, so sessions survive a restart."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key

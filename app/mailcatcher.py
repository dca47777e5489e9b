"""A mail catcher for development: an SMTP server that keeps every message as a file and delivers none.

`backhaul run` starts it when no BACKHAUL_SMTP_URL is configured, so that a password reset or a welcome
e-mail sent on a developer's machine is not lost (nor sent to a real person): each one lands in
`<data dir>/mail/` as an `.eml` file that any mail program opens, and one line in the log says so.

    python -m app.mailcatcher --port 1025 --dir data/mail

It listens on the loopback interface only, accepts any sender and recipient, and needs no password.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import uuid
from email import message_from_bytes
from email.header import decode_header, make_header
from functools import partial
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from app import clock

log = logging.getLogger("backhaul.mailcatcher")


class Catcher:
    """The aiosmtpd handler: one `.eml` file per message, written whole or not at all."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        path = self.store(envelope.original_content or envelope.content)
        log.info("mail to %s: %s (%s)", ", ".join(envelope.rcpt_tos), _subject(envelope.content), path)
        return "250 Message caught"

    def store(self, content: bytes | str) -> Path:
        data = content.encode() if isinstance(content, str) else content
        name = f"{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        partial_path = self.folder / f".{name}.part"  # a reader never sees half a message
        partial_path.write_bytes(data)
        final = self.folder / name
        os.replace(partial_path, final)
        return final


def _subject(content: bytes | str) -> str:
    raw = content if isinstance(content, bytes) else content.encode()
    subject = message_from_bytes(raw).get("Subject", "(no subject)")
    return str(make_header(decode_header(subject)))


async def serve(host: str, port: int, folder: Path) -> None:
    """Serve until SIGTERM or SIGINT (Ctrl-C reaches the whole `backhaul run` process group)."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(partial(SMTP, Catcher(folder), hostname="backhaul-mailcatcher"),
                                      host=host, port=port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("catching mail on smtp://%s:%s into %s", host, port, folder)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.mailcatcher", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path("data") / "mail", help="where the .eml files go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[mail] %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line-by-line protocol trace
    asyncio.run(serve(args.host, args.port, args.dir.resolve()))


if __name__ == "__main__":
    main()

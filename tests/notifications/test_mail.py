"""Rendering, the SMTP client and the dev mail catcher, each against the real thing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from app.services.branding import rendering
from app.services.branding.resolve import Level, merge
from app.services.errors import Invalid
from app.services.notifications import queue_email, render
from app.services.notifications.smtp import NotConfigured, Server, build_message, send
from tests.notifications.conftest import free_port, wait_for

CONTEXTS = {
    "security/lockout": {"at": datetime(2025, 3, 4, 5, 6, tzinfo=UTC), "ip": "203.0.113.7"},
    "security/password_reset": {"reset_url": "https://abc.example/reset?token=t0k&x=1"},
    "security/new_device": {"at": "2025-03-04T07:06:00+02:00", "ip": "203.0.113.7",
                            "user_agent": "Mozilla/5.0 <script>alert(1)</script>"},
    "welcome": {"portal_id": "ABC000001", "portal_url": "https://abc.example/"},
}


def branded(name: str, **fields) -> dict:
    """The brand part of an e-mail's context, as queue_email builds it for a tenant named `name`."""
    brand = merge([Level("T", name, None, {"brand_name": name, **fields}, False), Level("platform", "", None, {})])
    return rendering.render_context(brand, rendering.Locale())


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_template_renders_subject_text_and_html_with_the_brand(template):
    rendered = render(template, {**CONTEXTS[template], **branded("ABC & Sons")})
    assert "ABC & Sons" in rendered.subject and "\n" not in rendered.subject
    assert "ABC & Sons" in rendered.text
    assert "ABC &amp; Sons" in rendered.html and "ABC & Sons" not in rendered.html  # HTML is escaped


def test_details_are_shown_and_escaped_in_html():
    lockout = render("security/lockout", {**CONTEXTS["security/lockout"], **branded("B")})
    assert "4 March 2025, 05:06 UTC" in lockout.text and "203.0.113.7" in lockout.text
    assert "30 minutes" in lockout.text and "reset" in lockout.text
    device = render("security/new_device", {**CONTEXTS["security/new_device"], **branded("B")})
    assert "4 March 2025, 05:06 UTC" in device.text  # converted to UTC, and says so
    assert "<script>" not in device.html and "&lt;script&gt;" in device.html
    reset = render("security/password_reset", {**CONTEXTS["security/password_reset"], **branded("B")})
    assert "https://abc.example/reset?token=t0k&x=1" in reset.text
    assert 'href="https://abc.example/reset?token=t0k&amp;x=1"' in reset.html
    assert "1 hour" in reset.text


def test_a_missing_context_value_fails_before_anything_is_written(db):
    with pytest.raises(Exception, match="reset_url"), db.session() as session:
        queue_email(session, to="ops@isp.example", template="security/password_reset", context={})


@pytest.mark.parametrize("to", ["not-an-address", "a@b.example\r\nBcc: victim@example.net", ""])
def test_a_bad_recipient_is_refused(db, to):
    with pytest.raises(Invalid), db.session() as session:
        queue_email(session, to=to, template="welcome", context=CONTEXTS["welcome"])


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://relay.internal", Server("smtp", "relay.internal", 25)),
    ("smtp+starttls://user%40isp:p%3Ass@mail.example:2587", Server("smtp+starttls", "mail.example", 2587,
                                                                   "user@isp", "p:ss")),
    ("smtps://u:p@mail.example", Server("smtps", "mail.example", 465, "u", "p")),
])
def test_smtp_urls(url, expected):
    server = Server.from_url(url)
    assert server == expected
    assert "p:ss" not in str(server) and ":p@" not in str(server)


@pytest.mark.parametrize("url", [None, "", "http://mail.example", "smtp://"])
def test_no_or_a_wrong_smtp_url_is_not_configured(url):
    with pytest.raises(NotConfigured):
        Server.from_url(url)


def test_send_delivers_a_multipart_message(smtp_server):
    message = build_message(sender="Acme <no-reply@acme.example>", to="ann@example.net", subject="Hello",
                            text="plain body\n", html="<p>html body</p>", message_id="<outbox.1.acme@acme.example>")
    send(message, smtp_server.url)
    [received] = smtp_server.inbox.messages
    assert received["Message-ID"] == "<outbox.1.acme@acme.example>"
    assert received.get_content_type() == "multipart/alternative"
    assert received.get_body(("plain",)).get_content().rstrip() == "plain body"
    assert "html body" in received.get_body(("html",)).get_content()


def test_the_mail_catcher_keeps_each_message_as_an_eml_file(tmp_path):
    port, folder = free_port(), tmp_path / "mail"
    catcher = subprocess.Popen([sys.executable, "-m", "app.mailcatcher", "--port", str(port), "--dir", str(folder)],
                               stderr=subprocess.PIPE, text=True)
    try:
        message = build_message(sender="Backhaul <no-reply@localhost>", to="dev@example.net",
                                subject="Caught ✓", text="kept, not sent\n")
        wait_for(lambda: _try_send(message, f"smtp://127.0.0.1:{port}"), what="the mail catcher to listen")
        [saved] = wait_for(lambda: list(folder.glob("*.eml")), what="the .eml file")
        caught = message_from_bytes(saved.read_bytes(), policy=policy.default)
        assert caught["Subject"] == "Caught ✓" and caught["To"] == "dev@example.net"
        assert caught.get_content().rstrip() == "kept, not sent"
    finally:
        catcher.terminate()
        _, log = catcher.communicate(timeout=10)
    assert catcher.returncode == 0
    assert "mail to dev@example.net: Caught ✓" in log


def _try_send(message, url) -> bool:
    try:
        send(message, url, timeout=2)
    except OSError:
        return False
    return True

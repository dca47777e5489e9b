"""Fixtures of the browser tests (rig.py): the browser, the live server, a page per test, `look`, and the
demo platform (ABC Internet, ABC East Connect, XYZ Networks) on the test hosts `*.test.example`."""

from __future__ import annotations

import pytest

from tests.portals import rig


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    chromium = rig.launch(playwright_driver)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def live_server(app):
    server = rig.LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def context(browser):
    made = browser.new_context(viewport=rig.DESKTOP, locale="en-GB")
    yield made
    made.close()


@pytest.fixture
def page(context):
    """A page of a fresh context (no cookies), watched for refusals of the security policy and script errors."""
    opened = context.new_page()
    watch = rig.Watch()
    watch.attach(opened)
    opened.watch = watch
    yield opened
    refused = watch.policy_refusals()
    assert not refused, "the page broke the security policy:\n" + "\n".join(refused)


@pytest.fixture(scope="session")
def look():
    return rig.Looker(rig.screenshot_dir())


@pytest.fixture(scope="session")
def demo(db):
    """The demo's resellers, brands and customers (app/services/demo.py), seeded once per test process."""
    from app.services import demo as seed

    return {spec["code"]: spec for spec in seed.seed(db.session, "test.example")}


@pytest.fixture(scope="session")
def staff(db):
    """The demo's master ISP staff member (app/services/demo.py), for the console's tests."""
    from app.services import demo as seed

    return seed.seed_staff(db.session)

"""The cookies Backhaul's pages set, each with what it is for and how long it lasts (000 §8.2 "Cookie
preferences").

Every one of them is strictly necessary: signing in, keeping a form from being sent by another site, and
recognising a device the account has used before (which keeps the customer signing in while someone else's
wrong guesses lock the account, and is how a sign-in from a new device is noticed). Besides them the pages
keep one entry in the tab's session storage (`STORAGE`): htmx, which refreshes parts of a page, notes the
address of the page being shown so that Back restores it; it stays in that tab, is never sent anywhere and
goes when the tab is closed. There is no analytics, advertising or preference cookie and nothing in local
storage, so there is nothing to consent to and no cookie banner: the Privacy page lists them instead.

A cookie or a storage entry added to the pages must be added here, or the tests fail: tests/privacy compares
the cookies with the names the web door sets, and tests/portals/customer/test_privacy.py with what a browser
holds after using the portal.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.services.auth.realms import CUSTOMER

DEVICE_DAYS = 400  # app/web/auth.py `set_session_cookies`: the longest a browser keeps a cookie


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str  # msgids: the page translates them
    lifetime: str
    lifetime_args: dict
    necessary: bool = True


COOKIES: tuple[Cookie, ...] = (
    Cookie("bh_session", "Keeps you signed in. It holds a random key to your session; the session itself is kept "
                         "by your provider and ends when you sign out.",
           "Until you close the browser. The session ends after %(idle)s minutes without use, and after "
           "%(days)s days at most.", {"idle": CUSTOMER.idle_minutes, "days": CUSTOMER.absolute_hours // 24}),
    Cookie("bh_forms", "Protects the forms you send from being sent by another website (a security token), "
                       "and carries a message from one page to the next.",
           "Until you close the browser.", {}),
    Cookie("bh_device", "Recognises this browser as one you have signed in from before, so that you can still "
                        "sign in when someone else's wrong guesses have locked your account, and so that you "
                        "are told of a sign-in from a new device.",
           "%(days)s days.", {"days": DEVICE_DAYS}),
)


STORAGE: tuple[Cookie, ...] = (
    Cookie("htmx-current-path-for-history", "Notes the address of the page you are on, so that the Back button "
                                            "brings it back after part of the page was refreshed. It is kept in "
                                            "this browser tab's session storage and never sent anywhere.",
           "Until you close the tab.", {}),
)


def cookies() -> tuple[Cookie, ...]:
    return COOKIES


def names() -> frozenset[str]:
    return frozenset(c.name for c in COOKIES)


def storage_names() -> frozenset[str]:
    return frozenset(c.name for c in STORAGE)


def optional() -> tuple[Cookie, ...]:
    """What would need the customer's consent first: nothing, which is why no banner asks for it."""
    return tuple(c for c in (*COOKIES, *STORAGE) if not c.necessary)

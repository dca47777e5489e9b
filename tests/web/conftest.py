"""The web pages' tests reuse the auth fixtures (accounts, staff) and the white-label ones (a reseller with a
signed-in Admin)."""

from tests.auth.conftest import accounts, staff  # noqa: F401
from tests.whitelabel.conftest import reseller  # noqa: F401

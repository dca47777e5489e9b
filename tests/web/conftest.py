"""The web pages' tests reuse the auth fixtures (accounts, staff), the white-label ones (a reseller with a
signed-in Admin) and the notifications' real SMTP server and worker."""

from tests.auth.conftest import accounts, staff  # noqa: F401
from tests.notifications.conftest import mail_broker, mail_worker, smtp_server  # noqa: F401
from tests.whitelabel.conftest import reseller  # noqa: F401

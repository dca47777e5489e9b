from tests.auth.conftest import accounts, bearer, reseller_login  # noqa: F401
from tests.provisioning.conftest import make_plan  # noqa: F401

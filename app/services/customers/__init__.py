"""Customers of a reseller: their profile, lifecycle status, deletion, the customer list, and operations
over many customers at once. (The services of a filtered set of customers, suspended, restored or moved to
another plan together, are `app.services.bulk_services`: they use the services' rules, which use these.)

- `validation`: the profile fields, checked and normalised (M-PESA numbers, GPS, money).
- `records`: looking a customer up, creating one within the reseller's customer limit, the profile.
- `status`: the lifecycle's transitions, approval, and the history of every change.
- `deletion`: deleting a customer, or keeping them Inactive when financial records refer to them.
- `listing`: the list's filters, full-text search and keyset pages; the set a bulk operation acts on.

Callers use the names re-exported here (`customers.create`, `customers.CustomerFilter`…), which stay
put whichever module holds them.

`visible` parameters carry a user's `allowed_customer_ids` (None: every customer); a customer outside it
is reported as not found, never as forbidden, so that its existence does not leak.
"""

from app.services.customers.deletion import FINANCIAL_TABLES, Removal, delete, financial_references
from app.services.customers.listing import (
    BULK_MAX,
    DEFAULT_SORT,
    LIST_COLUMNS,
    MAX_TERMS,
    PAGE_MAX,
    SERVICE_TYPES,
    SORTS,
    CustomerFilter,
    Page,
    SortKey,
    _decode_cursor,
    _encode_cursor,
    list_page,
    matching_ids,
    sort_options,
    tsquery,
)
from app.services.customers.records import (
    ID_MAX,
    STATUSES,
    CustomerLimitReached,
    active_count,
    actor_fields,
    by_ids,
    check_limit,
    create,
    find_by_email,
    get,
    update,
    valid_id,
)
from app.services.customers.status import (
    APPROVAL_TARGETS,
    TRANSITIONS,
    StatusResult,
    TransitionRefused,
    approve,
    change_status,
    change_statuses,
    history,
    refusal,
    service_activated,
)
from app.services.customers.validation import (
    KINDS,
    MONEY_MAX,
    PAYMENT_METHODS,
    PROFILE_FIELDS,
    clean_email,
    clean_phone,
    clean_profile,
    normalise_msisdn,
)

__all__ = [
    "APPROVAL_TARGETS", "BULK_MAX", "DEFAULT_SORT", "FINANCIAL_TABLES", "ID_MAX", "KINDS", "LIST_COLUMNS",
    "MAX_TERMS", "MONEY_MAX", "PAGE_MAX", "PAYMENT_METHODS", "PROFILE_FIELDS", "SERVICE_TYPES",
    "SORTS", "STATUSES", "TRANSITIONS", "CustomerFilter", "CustomerLimitReached", "Page",
    "Removal", "SortKey", "StatusResult", "TransitionRefused", "_decode_cursor", "_encode_cursor",
    "active_count", "actor_fields", "approve", "by_ids", "change_status", "change_statuses",
    "check_limit", "clean_email", "clean_phone", "clean_profile", "create", "delete", "financial_references",
    "find_by_email", "get", "history", "list_page", "matching_ids", "normalise_msisdn", "refusal",
    "service_activated", "sort_options", "tsquery", "update", "valid_id",
]

"""Errors the business rules raise; each door (API, portal, CLI, worker) shows them in its own way.

`slug` becomes the stable problem `type` of the API (`/problems/<slug>`), `status` its HTTP status.
"""


class ServiceError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ServiceError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class Invalid(ServiceError):
    status = 422
    slug = "invalid"
    title = "Invalid input"


class NotPermitted(ServiceError):
    """A rule of who may see or do something that no permission name expresses (the doors check permissions)."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"

"""Domain errors carry a status code and a message fit to show; nothing else reaches a page."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status_code: int | None = None,
        link: tuple[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.link = link  # (path, label): where to go from here, shown under the message
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class TooManyRequests(DomainError):
    status_code = 429


class FieldErrors(DomainError):
    """Several fields were wrong; `errors` maps field name to a message fit to show."""

    status_code = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors

"""Errors shaped like Stripe's: `{"error": {"type", "message", "code", "param", ...}}`.

localstripe answers most refusals with a bare 400 "Bad request"; the stripe library then raises
an InvalidRequestError without `code` or `param`, so code that branches on them (for example
`charge_already_refunded`) cannot be tested. Everything this package refuses goes through
`StripeError` instead."""

from __future__ import annotations

from typing import Any

from localstripe.errors import UserError


class StripeError(UserError):
    """A refusal as Stripe words it. `stored` says whether Stripe keeps the answer under the
    request's idempotency key: it does once the endpoint started working (a card decline), not
    when the parameters failed validation."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        stored: bool = False,
        **extra: Any,
    ):
        super().__init__(status)
        body: dict[str, Any] = {"type": type, "message": message}
        if code:
            body["code"] = code
            body["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
        if param:
            body["param"] = param
        body.update({k: v for k, v in extra.items() if v is not None})
        self.body = {"error": body}
        self.stored = stored


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """400 invalid_request_error: the parameters are wrong; nothing happened."""
    return StripeError(400, message, param=param, code=code)


def missing(param: str) -> StripeError:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def unknown(param: str) -> StripeError:
    return invalid(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def no_such(kind: str, id_: str, param: str | None = None) -> StripeError:
    """404 resource_missing, as Stripe says it: "No such PaymentMethod: 'pm_x'"."""
    return StripeError(404, f"No such {kind}: '{id_}'", param=param, code="resource_missing")

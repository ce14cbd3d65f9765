"""Refunds and disputes, after a payment, as Stripe runs them.

localstripe refunds any amount (¥1,000 on a ¥580 charge), always at once, and sends no refund
events; it has no disputes. Here a refund is limited to what is left of its charge, card
refunds succeed at once (except Stripe's test card whose refund fails later), Alipay and WeChat
Pay refunds start `pending` and settle later, and each change sends Stripe's events."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from localstripe import resources

from farm.payments.emulator import checks
from farm.payments.emulator.errors import invalid, no_such
from farm.payments.emulator.events import emit

if TYPE_CHECKING:
    from farm.payments.emulator.intents import Charge

REFUND_FAILS_LATER = "4000000000005126"
REFUND_CREATE_PARAMS = frozenset(
    {"amount", "charge", "payment_intent", "metadata", "reason", "expand"}
)


_timers: set[asyncio.Future[None]] = set()


def refund_seconds() -> float:
    """How long a pending refund waits before it settles by itself (so `dev.py run` works)."""
    return float(os.environ.get("FARM_EMULATOR_REFUND_SECONDS", "3"))


class Refund(resources.StripeObject):
    """A refund limited to what is left of the charge. Card refunds succeed at once (except the
    test card whose refund fails later); Alipay and WeChat Pay refunds start `pending`. Every
    change sends the events Stripe sends."""

    object = "refund"
    _id_prefix = "re_"

    def __init__(self, params: Mapping[str, Any]):
        charge = _refundable_charge(params.get("charge"), params.get("payment_intent"))
        left = charge.amount - charge.amount_refunded
        if left <= 0:
            raise invalid(
                f"Charge {charge.id} has already been refunded.",
                param="charge" if params.get("charge") else "payment_intent",
                code="charge_already_refunded",
            )
        amount = left
        if params.get("amount") is not None:
            amount = checks.integer(params["amount"], "amount")
            if amount <= 0:
                raise invalid("Invalid positive integer", param="amount",
                              code="parameter_invalid_integer")  # fmt: skip
            if amount > left:
                raise invalid(
                    f"Refund amount ({checks.money(amount, charge.currency)}) is greater than "
                    f"unrefunded amount on charge ({checks.money(left, charge.currency)})",
                    param="amount", code="amount_too_large",
                )  # fmt: skip
        reason = params.get("reason")
        if reason is not None:
            checks.choice(reason, "reason", ("duplicate", "fraudulent", "requested_by_customer"))
        metadata = checks.metadata(params.get("metadata"))
        super().__init__()
        kind = charge.payment_method_details["type"]
        self.amount = amount
        self.balance_transaction = None
        self.charge = charge.id
        self.currency = charge.currency
        self.destination_details = {"type": kind, kind: {}}
        self.failure_reason: str | None = None
        self.metadata = metadata
        self.payment_intent = charge.payment_intent
        self.reason = reason
        self.receipt_number = None
        self.status = "succeeded" if kind == "card" else "pending"
        self.next_action = None
        emit("refund.created", self)
        emit("charge.refunded", charge)
        if self.status == "pending":
            self._settle_later("succeeded")
        elif charge._card_number == REFUND_FAILS_LATER:
            self._settle_later("failed")

    @classmethod
    def _all(cls) -> list[Refund]:
        return [v for k, v in resources.store.items() if k.startswith("refund:")]

    def _settle_later(self, status: str) -> None:
        expected = self.status

        async def settle() -> None:
            await asyncio.sleep(refund_seconds())
            if self.status == expected:
                self._settle(status)

        task = asyncio.ensure_future(settle())
        _timers.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(_timers.discard)

    def _settle(self, status: str) -> None:
        """Move the refund to `succeeded` or `failed`: refund.updated, charge.refund.updated,
        and refund.failed for a failure (the charge's amount_refunded goes back down)."""
        checks.choice(status, "status", ("succeeded", "failed"))
        allowed = {"pending": ("succeeded", "failed"), "succeeded": ("failed",)}
        if status not in allowed.get(self.status, ()):
            raise invalid(f"A refund with status {self.status} cannot become {status}.",
                          param="status")  # fmt: skip
        previous = {"status": self.status}
        self.status = status
        if status == "failed":
            card = self.destination_details["type"] == "card"
            self.failure_reason = "expired_or_canceled_card" if card else "declined"
            previous["failure_reason"] = None
        emit("refund.updated", self, previous)
        emit("charge.refund.updated", self, previous)
        if status == "failed":
            emit("refund.failed", self)


def _refundable_charge(charge_id: Any, intent_id: Any) -> Charge:
    if charge_id is None and intent_id is None:
        raise invalid("One of `charge` or `payment_intent` is required.", code="parameter_missing")
    if charge_id is not None and intent_id is not None:
        raise invalid(
            "You may only specify one of these parameters: charge, payment_intent.",
            param="payment_intent",
        )
    if intent_id is not None:
        intent = resources.store.get(f"payment_intent:{intent_id}")
        if intent is None:
            raise no_such("payment_intent", str(intent_id), "payment_intent")
        if intent.status != "succeeded":
            raise invalid(
                f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge_id = intent.latest_charge
    charge = resources.store.get(f"charge:{charge_id}")
    if charge is None:
        raise no_such("charge", str(charge_id), "charge")
    if charge.status != "succeeded":
        raise invalid(
            f"Charge {charge.id} has not succeeded and cannot be refunded.", param="charge"
        )
    return charge  # type: ignore[no-any-return]


class Dispute(resources.StripeObject):
    """The dispute Stripe opens for its test card 4000000000000259 (reason fraudulent)."""

    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: Charge):
        super().__init__()
        self.amount = charge.amount
        self.balance_transactions: list[Any] = []
        self.charge = charge.id
        self.currency = charge.currency
        self.evidence: dict[str, Any] = {}
        self.evidence_details = {"due_by": self.created + 7 * 86400, "has_evidence": False,
                                 "past_due": False, "submission_count": 0}  # fmt: skip
        self.is_charge_refundable = False
        self.metadata: dict[str, str] = {}
        self.payment_intent = charge.payment_intent
        self.reason = "fraudulent"
        self.status = "needs_response"

    @classmethod
    def _open(cls, charge: Charge) -> Dispute:
        dispute = cls(charge)
        charge.disputed = True
        emit("charge.dispute.created", dispute)
        return dispute

    def _close(self, status: str) -> None:
        checks.choice(status, "status", ("won", "lost"))
        if self.status in ("won", "lost"):
            raise invalid(f"This dispute is already closed ({self.status}).", param="status")
        previous = {"status": self.status}
        self.status = status
        emit("charge.dispute.closed", self, previous)

"""Events as Stripe sends them for the pinned API version."""

from __future__ import annotations

from typing import Any

from localstripe import resources, webhooks

API_VERSION = "2026-10-28.endive"  # the version the service pins; events are rendered in it


class Event(resources.Event):
    """An event as Stripe sends it for the pinned API version (localstripe says 2017-08-15 and
    has no `previous_attributes`)."""

    def __init__(self, type: str, obj: resources.StripeObject, previous: dict[str, Any] | None):  # noqa: A002
        resources.StripeObject.__init__(self)
        self.type = type
        self.api_version = API_VERSION
        self.data: dict[str, Any] = {"object": obj._export()}
        if previous:
            self.data["previous_attributes"] = previous
        self.pending_webhooks = len(webhooks._webhooks)
        self.request = {"id": None, "idempotency_key": None}


def emit(type: str, obj: resources.StripeObject, previous: dict[str, Any] | None = None) -> None:  # noqa: A002
    webhooks.schedule_webhook(Event(type, obj, previous))

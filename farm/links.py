"""Absolute links to this site's pages, for what is read away from it (mail, a voucher's QR
code). The public base URL (FARM_BASE_URL) is joined to a page's path here and nowhere else:
the runtime (farm.bootstrap) makes the Links from the settings (`runtime.links`), routes read
it with `farm.web.links(request)`, and a service that writes a link takes it as an argument."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Links:
    base_url: str  # no trailing slash (Settings strips it)

    def to(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def subscription(self, subscription_id: int, page: str = "") -> str:
        """The customer's subscription, or one of its pages (`deliveries`, `vouchers`)."""
        tail = f"/{page}" if page else ""
        return self.to(f"/account/subscriptions/{subscription_id}{tail}")

    def password_reset(self, token: str) -> str:
        return self.to(f"/password/reset/{token}")

    def email_confirmation(self, token: str) -> str:
        return self.to(f"/email/confirm/{token}")

    def invitation(self, token: str) -> str:
        """Where an invited manager chooses their name and password."""
        return self.to(f"/invitation/{token}")

    def voucher_scan(self, code: str) -> str:
        """What a voucher's QR code holds: the partner's scan page for this code."""
        return self.to(f"/v/{code}")

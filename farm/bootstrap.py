"""bootstrap(settings) -> Runtime: what the web app, the scheduler and the CLI share, built in
one place from the settings: the payment gateway, the mailer, the clock (now, and today in the
service's time zone), the public base URL and the links made from it (farm.links), the secret
key, where files are kept (farm.storage: the data folder or a bucket), and how documents
are drawn.

The web app keeps it in app.state.runtime; the scheduler hands it to every job; `farm
run-due` builds the same one. Services still take what they use as arguments (a gateway,
`today`, `now`): the runtime is where the entry points get them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime

from farm.links import Links
from farm.mail import Mailer, make_mailer
from farm.payments.gateway import Gateway, StripeGateway
from farm.settings import Settings
from farm.shipments.documents import Paper
from farm.storage import Storage, storage_for


@dataclass(frozen=True)
class Clock:
    """Now (UTC, as stored) and today where the cooperative is: Settings.local_date, the one
    place that turns a moment into the service's date."""

    settings: Settings

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, now: datetime | None = None) -> date:
        return self.settings.local_date(now or self.now())


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    gateway: Gateway
    mailer: Mailer
    clock: Clock
    paper: Paper | None = None  # where and how packing lists and labels are made
    storage: Storage | None = None  # photos and documents: the data folder or a bucket
    document_workers: int = 1  # processes drawing them

    @property
    def links(self) -> Links:
        """The site's absolute links, from the public address, for mail and QR codes."""
        return Links(self.settings.base_url)

    @property
    def secret(self) -> str:
        return str(self.settings.secret_key)

    async def aclose(self) -> None:
        await self.gateway.aclose()


def paper_for(settings: Settings, storage: Storage | None = None) -> Paper:
    return Paper(
        storage=storage or storage_for(settings),
        secret=str(settings.secret_key),
        base_url=settings.base_url,
        language=settings.default_language,
        timezone=settings.timezone,
    )


def bootstrap(
    settings: Settings,
    *,
    gateway: Gateway | None = None,
    mailer: Mailer | None = None,
    document_workers: int | None = None,
) -> Runtime:
    """The runtime from the settings; a test may pass its own gateway or mailer."""
    storage = storage_for(settings)
    return Runtime(
        settings=settings,
        gateway=gateway or StripeGateway(settings),
        mailer=mailer or make_mailer(settings),
        clock=Clock(settings),
        paper=paper_for(settings, storage),
        storage=storage,
        # Drawing is CPU work: one process a core.
        document_workers=document_workers or os.cpu_count() or 1,
    )

"""What needs the manager, on the console's first page: boxes of past ship days still not
shipped, harvests a ship day passed without placing, refunds that need the manager, vouchers
about to expire unused, plans still in draft. Each a count and where to deal with it; each one
query on indexes, whatever the size of the cooperative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.expressions import F

from farm.accounts.models import User
from farm.fieldwork.models import HarvestLot
from farm.i18n import ngettext
from farm.land.models import Plan
from farm.payments.console import needing_attention
from farm.shipments.models import SHIPPABLE, Batch, Shipment, ShipmentStatus
from farm.vouchers.models import Voucher, VoucherStatus

EXPIRING_WITHIN = timedelta(days=14)
LOTS_LOOK_BACK = timedelta(days=90)  # a lot a ship day left open this long ago is history


@dataclass(frozen=True)
class TodoItem:
    count: int
    text: str  # in the manager's language, with the count
    link: str


async def todo_list(*, manager: User, today: date, now: datetime) -> list[TodoItem]:
    """The things to do, most urgent first; only those there are."""
    coop = manager.cooperative_id
    items: list[TodoItem] = []

    late = Shipment.filter(batch__cooperative_id=coop, ship_on__lt=today, status__in=SHIPPABLE)
    if (count := await late.count()) and (oldest := await late.order_by("ship_on").first()):
        unpacked = oldest.status == ShipmentStatus.CREATED
        items.append(
            TodoItem(
                count,
                ngettext(
                    "%(num)d box of a past ship day is not shipped yet.",
                    "%(num)d boxes of past ship days are not shipped yet.",
                    count,
                )
                % {"num": count},
                f"/manage/shipments/{oldest.batch_id}?status="
                + (ShipmentStatus.CREATED if unpacked else ShipmentStatus.PACKED),
            )
        )

    last_day = (
        await Batch.filter(cooperative_id=coop, ship_on__lte=today)
        .order_by("-ship_on")
        .first()
        .values_list("ship_on", flat=True)
    )
    if last_day is not None:
        open_lots = await HarvestLot.filter(
            field__cooperative_id=coop,
            harvested_on__gte=last_day - LOTS_LOOK_BACK,
            harvested_on__lt=last_day,
            voided_at__isnull=True,
            settled_g__lt=F("weight_g"),
        ).count()
        if open_lots:
            items.append(
                TodoItem(
                    open_lots,
                    ngettext(
                        "%(num)d harvest lot was not placed by the ship day of %(day)s.",
                        "%(num)d harvest lots were not placed by the ship day of %(day)s.",
                        open_lots,
                    )
                    % {"num": open_lots, "day": last_day.isoformat()},
                    "/manage/harvests",
                )
            )

    if refunds := await needing_attention(manager, now).count():
        items.append(
            TodoItem(
                refunds,
                ngettext(
                    "%(num)d refund needs you.", "%(num)d refunds need you.", refunds
                ) % {"num": refunds},
                "/manage/payments",
            )
        )  # fmt: skip

    expiring = await Voucher.filter(
        status=VoucherStatus.ISSUED,
        valid_until__gte=today,
        valid_until__lt=today + EXPIRING_WITHIN,
        subscription__season__cooperative_id=coop,
    ).count()
    if expiring:
        items.append(
            TodoItem(
                expiring,
                ngettext(
                    "%(num)d voucher expires unused within two weeks.",
                    "%(num)d vouchers expire unused within two weeks.",
                    expiring,
                )
                % {"num": expiring},
                "/manage/partners",
            )
        )

    drafts = await Plan.filter(season__cooperative_id=coop, published=False).count()
    if drafts:
        items.append(
            TodoItem(
                drafts,
                ngettext(
                    "%(num)d plan is a draft: customers do not see it.",
                    "%(num)d plans are drafts: customers do not see them.",
                    drafts,
                )
                % {"num": drafts},
                "/manage/seasons",
            )
        )
    return items

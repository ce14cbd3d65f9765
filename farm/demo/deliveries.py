"""The running season's past ship days as the families lived them: each batch made as the
scheduler makes it, every box with something in it packed and handed to a courier with a
tracking number (its link from the cooperative's courier list), and boxes confirmed arrived
and rated. No past box is left "being packed"; the ship day of
today, if it is one, is left to the scheduler. The writes are a statement per batch, not per
box."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from farm.land.models import Cooperative, Season
from farm.shipments import couriers, rules
from farm.shipments.batches import due_batches, make_batch
from farm.shipments.models import BoxReport, Courier, Shipment, ShipmentStatus

# The first family's boxes, oldest first: (stars, words) for those rated; the box before the
# latest arrived without a rating, the latest is on its way.
RATINGS = (
    (5, "萝卜很甜，孩子第一次吃到自家地里的菜。"),
    (4, "青菜很新鲜，就是有几片叶子压坏了。"),
    (5, "比超市的好吃多了，谢谢周阿姨！"),
)
# Which courier takes a family's boxes, by their place among the season's subscriptions.
COURIERS = ("顺丰速运", "中通快递", "京东物流", "圆通速递")
PREFIX = {"顺丰速运": "SF", "京东物流": "JD"}  # others: digits only


def _at(day: date, hour: int) -> datetime:
    """That local (Asia/Shanghai) hour of a day, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=UTC) - timedelta(hours=8)


def _tracking_number(courier: str, shipment_id: int) -> str:
    return f"{PREFIX.get(courier, '7')}{7_300_000_000_000 + shipment_id * 7919:013d}"


async def ship_past_boxes(*, coop: Cooperative, season: Season, today: date) -> None:
    """Make, pack and ship the season's ship days before `today`, and have the families
    confirm and rate some of their boxes."""
    for due in await due_batches(today=today - timedelta(days=1)):
        if due.cooperative_id == coop.id:
            await make_batch(due, today=due.ship_on, now=_at(due.ship_on, 8))
    await couriers.ensure_defaults(coop.id)
    found = await Courier.filter(cooperative_id=coop.id).values_list("name", "tracking_url")
    patterns = dict(found)
    boxes = await Shipment.filter(
        subscription__season_id=season.id, ship_on__lt=today, status=ShipmentStatus.CREATED
    ).order_by("ship_on", "subscription_id")
    families = sorted({box.subscription_id for box in boxes})
    for box in boxes:
        courier = COURIERS[families.index(box.subscription_id) % len(COURIERS)]
        box.courier = courier
        box.tracking_no = _tracking_number(courier, box.id)
        box.tracking_url = rules.tracking_link(patterns.get(courier, ""), box.tracking_no)
        box.status = ShipmentStatus.SHIPPED
        box.packed_at = _at(box.ship_on, 10)
        box.shipped_at = _at(box.ship_on, 16)
    if boxes:
        await Shipment.bulk_update(
            boxes,
            fields=["courier", "tracking_no", "tracking_url", "status", "packed_at", "shipped_at"],
        )
    reports = []
    for place, family in enumerate(families):
        theirs = [box for box in boxes if box.subscription_id == family]
        # the first family: all but the last two rated, the one before the last arrived, the
        # last on its way; the others rated their first box
        rated = len(theirs) - 2 if place == 0 else min(1, len(theirs) - 1)
        arrived = len(theirs) - 1 if place == 0 else rated
        reports += [
            _report(box, today=today, words=RATINGS[i % len(RATINGS)] if i < rated else None)
            for i, box in enumerate(theirs[:arrived])
        ]
    await BoxReport.bulk_create([r for r in reports if r is not None])


def _report(box: Shipment, *, today: date, words: tuple[int, str] | None) -> BoxReport | None:
    """The family's word on a box: that it arrived (the day its transit took), and with
    `words`, its stars and comment; None if it cannot have arrived by today."""
    arrived = _at(box.ship_on + timedelta(days=box.transit_days), 18)
    if arrived.date() >= today:
        return None
    stars, comment = words or (None, "")
    return BoxReport(
        shipment_id=box.id, subscription_id=box.subscription_id, arrived_at=arrived,
        rating=stars, comment=comment, rated_at=arrived + timedelta(hours=2) if words else None,
        created_at=arrived,
    )  # fmt: skip

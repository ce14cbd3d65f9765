"""The end of the season for a family: what their plot sent them by crop, the boxes, the
photos and the farm-stay visits; the same numbers on the plot's certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from farm.accounts.models import User
from farm.fieldwork import timeline
from farm.fieldwork.models import Crop
from farm.partners.models import Booking, BookingStatus
from farm.shipments.models import Allocation, AllocationState, Shipment, ShipmentStatus
from farm.story import rules
from farm.subscriptions.models import Status, Subscription


@dataclass(frozen=True)
class Summary:
    subscription: Subscription
    received: list[tuple[Crop, int]]  # by crop, largest first: grams, or pieces
    received_kg_g: int  # the weighed crops' grams together
    boxes: int  # boxes that were sent
    photos: int  # photos of the plot this season
    visits: int  # farm stays booked or made (not cancelled)
    nights: int
    ended: bool  # the season is over (or the subscription completed)


async def season_summary(*, customer: User, subscription_id: int, today: date) -> Summary:
    """The customer's own plot's season in numbers (so far, while it runs)."""
    plot = await timeline.plot_page(customer=customer, subscription_id=subscription_id)
    sub = plot.subscription
    shipped = await Allocation.filter(
        subscription_id=sub.id,
        state=AllocationState.SHIPPED,
        shipment__status=ShipmentStatus.SHIPPED,
    ).values_list("lot__crop_id", "grams")
    totals = rules.totals_by_crop(shipped)
    crops = {c.id: c for c in await Crop.filter(id__in=list(totals))}
    received = [(crops[crop_id], amount) for crop_id, amount in totals.items()]
    stays = await Booking.filter(subscription_id=sub.id).exclude(
        status=BookingStatus.CANCELLED
    ).values_list("nights", flat=True)  # fmt: skip
    return Summary(
        subscription=sub,
        received=received,
        received_kg_g=sum(amount for crop, amount in received if crop.unit == "kg"),
        boxes=await Shipment.filter(subscription_id=sub.id, status=ShipmentStatus.SHIPPED).count(),
        photos=sum(len(i.entry.photos) for i in plot.items if i.entry is not None),
        visits=len(stays),
        nights=sum(stays),
        ended=sub.status == Status.COMPLETED or today >= sub.season.ends_on,
    )

"""A ship day's paper, its data: the rows of the packing list and the labels, gathered a chunk
of shipments at a time (so a batch of thousands of boxes is never held in memory as ORM
objects) and handed to the drawing in `farm.shipments.packing_pdf`; the signed token on each
box's label, and the data of the public trace page it opens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from anyio import to_thread
from itsdangerous import BadSignature, URLSafeSerializer
from tortoise.functions import Sum

from farm import i18n
from farm.accounts.models import User
from farm.errors import NotFound
from farm.fieldwork.models import Crop, HarvestLot
from farm.i18n import N_, _
from farm.land.models import Cooperative
from farm.shipments.console import diverted_grams
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    DiversionReason,
    Shipment,
    ShipmentStatus,
)
from farm.shipments.packing_pdf import Box, Item, Labels, PackingList
from farm.shipments.rules import shipment_number

CHUNK = 500  # shipments whose rows and items are read at a time
TOKEN_SALT = "box-trace"

REASONS = {  # the words of the console's batch page (templates/shipments/manage_macros.html)
    DiversionReason.SHELF_LIFE: N_("Past shelf life"),
    DiversionReason.HOLD: N_("Customer hold"),
    DiversionReason.DONATED: N_("Donated"),
    DiversionReason.SOLD_LOCALLY: N_("Sold locally"),
    DiversionReason.UNCLAIMED: N_("Unclaimed"),
}


# ---- the box trace token: the shipment id, signed ----


def box_token(secret: object, shipment_id: int) -> str:
    return URLSafeSerializer(str(secret), salt=TOKEN_SALT).dumps(shipment_id)


def shipment_id_from_token(secret: object, token: str) -> int | None:
    """The shipment id a token was made for; None when it was not made with this secret."""
    try:
        value = URLSafeSerializer(str(secret), salt=TOKEN_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def box_url(base_url: str, secret: object, shipment_id: int) -> str:
    return f"{base_url}/trace/box/{box_token(secret, shipment_id)}"


# ---- gathering the rows ----


def _name(name: str, name_en: str) -> str:
    return (name_en or name) if i18n.current_language() == "en" else name


async def manager_batch(*, user: User, batch_id: int) -> Batch:
    """A batch of the manager's own cooperative; any other is not found."""
    batch = await Batch.get_or_none(id=batch_id, cooperative_id=user.cooperative_id)
    if batch is None:
        raise NotFound(_("This ship day does not exist."))
    return batch


async def _crop_names(cooperative_id: int) -> dict[int, str]:
    crops = await Crop.filter(cooperative_id=cooperative_id).values("id", "name", "name_en")
    return {c["id"]: _name(c["name"], c["name_en"]) for c in crops}


async def box_chunks(batch: Batch, crops: dict[int, str]) -> AsyncIterator[list[Box]]:
    """The batch's boxes that have something in them, by plot code, CHUNK at a time."""
    ids = (
        await Shipment.filter(batch_id=batch.id, status__not=ShipmentStatus.EMPTY)
        .order_by("subscription__plot__code", "id")
        .values_list("id", flat=True)
    )
    fields = ("id", "recipient", "phone", "province", "city", "address")
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        rows = await Shipment.filter(id__in=chunk).values(
            *fields, "subscription__sign_name", "subscription__plot__code"
        )
        items: dict[int, list[Item]] = {i: [] for i in chunk}
        shares = (
            await Allocation.filter(shipment_id__in=chunk, state=AllocationState.SHIPPED)
            .order_by("lot__crop_id", "lot__code", "id")
            .values("shipment_id", "grams", "lot__code", "lot__crop_id")
        )
        for a in shares:
            crop = crops.get(a["lot__crop_id"], "?")
            items[a["shipment_id"]].append(Item(crop, a["lot__code"], a["grams"]))
        by_id = {r["id"]: r for r in rows}
        yield [
            Box(
                shipment_id=i,
                plot_code=by_id[i]["subscription__plot__code"],
                sign_name=by_id[i]["subscription__sign_name"],
                **{k: by_id[i][k] for k in fields[1:]},
                items=tuple(items[i]),
            )
            for i in chunk
            if items[i]
        ]


async def _cooperative_name(batch: Batch) -> str:
    coop = await Cooperative.get(id=batch.cooperative_id)
    return _name(coop.name, coop.name_en)


async def packing_list_pdf(*, batch: Batch, now: datetime, timezone: str) -> bytes:
    """The batch's packing list: what to pick, each box's items, and what was diverted."""
    crops = await _crop_names(batch.cooperative_id)
    doc = PackingList(
        cooperative=await _cooperative_name(batch),
        ship_on=batch.ship_on,
        generated=now.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M"),
    )
    picked = (
        await Allocation.filter(shipment__batch_id=batch.id, state=AllocationState.SHIPPED)
        .annotate(total=Sum("grams"))
        .group_by("lot__crop_id")
        .values_list("lot__crop_id", "total")
    )
    doc.picks(sorted((crops.get(c, "?"), int(g)) for c, g in picked))
    async for chunk in box_chunks(batch, crops):
        # Drawing is CPU work: in a worker thread, so the server goes on answering meanwhile.
        await to_thread.run_sync(lambda boxes=chunk: [doc.box(b) for b in boxes])
    diverted = await diverted_grams(batch)
    order = list(DiversionReason)
    rows = sorted(diverted, key=lambda r: (order.index(r[0]), crops.get(r[1], "?")))
    doc.diverted([(_(REASONS[r]), crops.get(c, "?"), int(g)) for r, c, g in rows])
    return doc.finish()


async def labels_pdf(*, batch: Batch, secret: object, base_url: str) -> bytes:
    """One address label per box with something in it, in packing-list order."""
    labels = Labels(cooperative=await _cooperative_name(batch), ship_on=batch.ship_on)

    def draw(boxes: list[Box]) -> None:
        for box in boxes:
            labels.label(box, box_url(base_url, secret, box.shipment_id))

    async for chunk in box_chunks(batch, await _crop_names(batch.cooperative_id)):
        await to_thread.run_sync(draw, chunk)
    return labels.finish()


# ---- the box's public trace page ----


@dataclass(frozen=True)
class BoxLot:
    lot: HarvestLot
    grams: int


@dataclass(frozen=True)
class BoxTrace:
    number: str
    ship_on: date
    cooperative: Cooperative
    lots: list[BoxLot]


async def box_trace(*, secret: object, token: str) -> BoxTrace:
    """Public: the lots in one box, from the token on its label. No names, no address."""
    shipment_id = shipment_id_from_token(secret, token)
    shipment = await Shipment.get_or_none(id=shipment_id) if shipment_id else None
    if shipment is None:
        raise NotFound(_("No box has this code."))
    grams: dict[int, int] = {}
    for lot_id, g in await Allocation.filter(
        shipment_id=shipment.id, state=AllocationState.SHIPPED
    ).values_list("lot_id", "grams"):
        grams[lot_id] = grams.get(lot_id, 0) + g
    lots = await HarvestLot.filter(id__in=list(grams)).prefetch_related("crop", "field", "plot")
    batch = await Batch.get(id=shipment.batch_id)
    return BoxTrace(
        number=shipment_number(shipment.id),
        ship_on=shipment.ship_on,
        cooperative=await Cooperative.get(id=batch.cooperative_id),
        lots=[BoxLot(lot, grams[lot.id]) for lot in sorted(lots, key=lambda x: (x.crop_id, x.id))],
    )

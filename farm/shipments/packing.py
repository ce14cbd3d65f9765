"""A ship day's paper, its data: the boxes of the packing lists and labels, gathered a few
hundred shipments at a time for `farm.shipments.documents` (which makes the PDFs in the
background, part by part); the signed token on each box's label, and the data of the public
trace page it opens."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import Signer
from tortoise import connections

from farm import i18n
from farm.errors import NotFound
from farm.fieldwork.models import Crop, HarvestLot
from farm.i18n import N_, _
from farm.land.models import Cooperative
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    DiversionReason,
    Shipment,
)
from farm.shipments.packing_pdf import Box, CropName, Item
from farm.shipments.rules import shipment_number
from farm.sql import is_postgres

TOKEN_SALT = "box-trace"

REASONS = {  # the words of the console's batch page (templates/shipments/manage_macros.html)
    DiversionReason.SHELF_LIFE: N_("Past shelf life"),
    DiversionReason.HOLD: N_("Customer hold"),
    DiversionReason.DONATED: N_("Donated"),
    DiversionReason.SOLD_LOCALLY: N_("Sold locally"),
    DiversionReason.UNCLAIMED: N_("Unclaimed"),
}


# ---- the box trace token: the shipment id, signed ----


@lru_cache(maxsize=8)
def _box_mac(secret: str) -> hmac.HMAC:
    """The HMAC of box tokens with its key set, copied for each token: itsdangerous derives
    the key and sets up the HMAC again for every value, and a ship day signs a token for each
    of up to 100,000 labels."""
    return hmac.new(Signer(secret, salt=TOKEN_SALT).derive_key(), digestmod=hashlib.sha1)


def box_token(secret: object, shipment_id: int) -> str:
    """The shipment id signed, exactly as `URLSafeSerializer(secret, salt=TOKEN_SALT)`
    dumps it (an integer's JSON is its digits, too short to compress), which reads it back."""
    payload = base64_encode(b"%d" % shipment_id)
    mac = _box_mac(str(secret)).copy()
    mac.update(payload)
    return (payload + b"." + base64_encode(mac.digest())).decode("ascii")


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


async def crop_names(cooperative_id: int) -> dict[int, str]:
    """The crops' names as the documents print them, each carrying its unit (CropName)."""
    crops = await Crop.filter(cooperative_id=cooperative_id).values("id", "name", "name_en", "unit")
    return {
        c["id"]: CropName(i18n.localized(c["name"], c["name_en"]), str(c["unit"])) for c in crops
    }


_BOXES_SQL = (
    "SELECT s.id, s.recipient, s.phone, s.province, s.city, s.address, sub.sign_name, p.code"
    " FROM shipments s JOIN subscriptions sub ON sub.id = s.subscription_id"
    " JOIN plots p ON p.id = sub.plot_id WHERE s.id {ids}"
)
_ITEMS_SQL = (
    "SELECT a.shipment_id, a.grams, l.code, l.crop_id FROM lot_allocations a"
    " JOIN harvest_lots l ON l.id = a.lot_id"
    " WHERE a.shipment_id {ids} AND a.state = 'shipped' ORDER BY l.crop_id, l.code, a.id"
)
_CREDITS_SQL = (  # what the cooperative promised to add to a box, resolving a family's report
    "SELECT s.id, r.credit FROM shipments s JOIN box_reports r"
    " ON r.subscription_id = s.subscription_id AND r.credit_ship_on = s.ship_on"
    " WHERE s.id {ids} AND r.resolution = 'credit' ORDER BY r.id"
)
READ_BOXES = 250  # shipments a query reads, where each id is a parameter (SQLite)


async def boxes_of(ids: list[int], crops: dict[int, str]) -> list[Box]:
    """The boxes with these shipment ids, in the order given, with their items and the extras
    promised to their families; a box with nothing in it is left out. Three plain queries (on
    PostgreSQL the ids go as one array; elsewhere a few hundred at a time, one parameter
    each): at 100,000 boxes building ORM rows would cost more than the drawing."""
    conn = connections.get("default")
    if is_postgres(conn):
        chunks = [(" = ANY($1::int[])", [list(ids)])] if ids else []
    else:
        chunks = []
        for start in range(0, len(ids), READ_BOXES):
            chunk = ids[start : start + READ_BOXES]
            marks = ", ".join(f"?{i}" for i in range(1, len(chunk) + 1))
            chunks.append((f" IN ({marks})", chunk))
    rows, shares, promised = [], [], []
    for where, params in chunks:
        rows += (await conn.execute_query(_BOXES_SQL.format(ids=where), params))[1]
        shares += (await conn.execute_query(_ITEMS_SQL.format(ids=where), params))[1]
        promised += (await conn.execute_query(_CREDITS_SQL.format(ids=where), params))[1]
    items: dict[int, list[Item]] = {i: [] for i in ids}
    for shipment_id, grams, lot_code, crop_id in shares:
        items[shipment_id].append(Item(crops.get(crop_id, "?"), lot_code, grams))
    credits: dict[int, list[str]] = {}
    for shipment_id, credit in promised:
        credits.setdefault(shipment_id, []).append(credit)
    by_id = {r[0]: r for r in rows}
    return [
        Box(
            i, r[7], r[6], r[1], r[2], r[3], r[4], r[5], tuple(items[i]), tuple(credits.get(i, ()))
        )  # fmt: skip
        for i in ids
        if items[i] and (r := by_id.get(i)) is not None
    ]


async def cooperative_name(cooperative_id: int) -> str:
    coop = await Cooperative.get(id=cooperative_id)
    return i18n.localized(coop.name, coop.name_en)


def reason_text(reason: str) -> str:
    return _(REASONS[DiversionReason(reason)])


def sorted_diversions(
    rows: list[tuple[str, int, int]], crops: dict[int, str]
) -> list[tuple[str, str, int]]:
    """(reason, crop id, grams) -> (reason code, crop name, grams), in the reasons' order."""
    order = list(DiversionReason)
    rows = sorted(rows, key=lambda r: (order.index(DiversionReason(r[0])), crops.get(r[1], "?")))
    return [(str(r), crops.get(c, "?"), int(g)) for r, c, g in rows]


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

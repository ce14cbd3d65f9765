"""Boxes packed and shipped from the manager's console: one by one or all of a batch packed,
shipped one by one or from a tracking CSV (all or nothing), each with its email to the
customer in the same transaction.

Status changes are conditional UPDATEs on the current status, so two managers clicking at once
change a box once and send one email. A box of another batch or cooperative is 'not found'."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import Conflict, FieldErrors, NotFound
from farm.fieldwork.models import Crop
from farm.i18n import _, localized
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.shipments import couriers, rules, tracking_csv
from farm.shipments.batches import CHUNK
from farm.shipments.console import own_batch
from farm.shipments.models import (
    SHIPPABLE,
    Allocation,
    AllocationState,
    Batch,
    DiversionReason,
    Shipment,
    ShipmentStatus,
)
from farm.shipments.tracking_csv import LineProblem, TrackingLine
from farm.subscriptions.models import Subscription
from farm.units import amount_text


def _check_tracking(courier: str, tracking_no: str) -> None:
    form = forms.Form()
    form.read("courier", tracking_csv.courier_name, courier)
    form.read("tracking_no", tracking_csv.tracking_number, tracking_no)
    form.check()


async def _refuse(batch: Batch, shipment_id: int, conn: BaseDBAsyncClient) -> Shipment:
    """Why a conditional update changed nothing: not found (404), an empty box (409), or the
    box as it is now."""
    found = await Shipment.get_or_none(id=shipment_id, batch_id=batch.id).using_db(conn)
    if found is None:
        raise NotFound(_("This shipment is not in this batch."))
    if found.status == ShipmentStatus.EMPTY:
        raise Conflict(_("This box is empty: there is nothing to pack or ship."))
    return found


async def mark_packed(*, manager: User, batch_id: int, shipment_id: int, now: datetime) -> None:
    """A box to be packed is packed; clicking again changes nothing."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    async with in_transaction() as conn:
        changed = await (
            Shipment.filter(id=shipment_id, batch_id=batch.id, status=ShipmentStatus.CREATED)
            .using_db(conn)
            .update(status=ShipmentStatus.PACKED, packed_at=now)
        )
        if not changed:
            found = await _refuse(batch, shipment_id, conn)
            if found.status == ShipmentStatus.SHIPPED:
                raise Conflict(_("This box has already been shipped."))


async def mark_all_packed(*, manager: User, batch_id: int, now: datetime) -> int:
    """Every box of the batch still to be packed is packed; returns how many."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    async with in_transaction() as conn:
        # Locked in id order first, as a lot's correction locks boxes: never a deadlock.
        boxes = (
            await Shipment.filter(batch_id=batch.id, status=ShipmentStatus.CREATED)
            .select_for_update().using_db(conn).order_by("id").only("id")
        )  # fmt: skip
        ids = [box.id for box in boxes]
        packed = 0
        for start in range(0, len(ids), CHUNK):
            packed += await (
                Shipment.filter(id__in=ids[start : start + CHUNK], status=ShipmentStatus.CREATED)
                .using_db(conn)
                .update(status=ShipmentStatus.PACKED, packed_at=now)
            )
        return packed


CLOSE_REASON_LIMIT = 200


async def close_unsent(
    *, manager: User, batch_id: int, reason: str, today: date, now: datetime
) -> int:
    """Close the boxes of a past ship day that never went (still to pack, or packed and never
    handed to a courier), with the reason their families read on their page, instead of a box
    "being packed" for weeks. What was in them is recorded as not sent (every gram still in
    one place), and such a ship day is not counted by the refund rule. Returns how many."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    form = forms.Form()
    why = form.read("reason", forms.text, reason, limit=CLOSE_REASON_LIMIT, required=True)
    form.check()
    if batch.ship_on >= today:
        raise Conflict(_("Only the boxes of a past ship day can be closed."))
    async with in_transaction() as conn:
        # Locked in id order first, as packing and corrections lock boxes: never a deadlock.
        boxes = (
            await Shipment.filter(batch_id=batch.id, status__in=SHIPPABLE)
            .select_for_update().using_db(conn).order_by("id").only("id")
        )  # fmt: skip
        ids = [box.id for box in boxes]
        closed = 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            closed += await (
                Shipment.filter(id__in=chunk, status__in=SHIPPABLE)
                .using_db(conn)
                .update(status=ShipmentStatus.CLOSED, close_reason=why)
            )
            await (
                Allocation.filter(shipment_id__in=chunk)
                .using_db(conn)
                .update(
                    state=AllocationState.DIVERTED, reason=DiversionReason.NOT_SENT,
                    shipment_id=None, decided_by_id=manager.id, decided_at=now,
                    note=why or "",  # at most CLOSE_REASON_LIMIT (200), as read
                )
            )  # fmt: skip
        return closed


async def mark_shipped(
    *,
    manager: User,
    batch_id: int,
    shipment_id: int,
    courier: str,
    tracking_no: str,
    links: Links,
    now: datetime,
) -> bool:
    """A box handed to the courier (packed or not): its courier and tracking number, and
    its email to the customer in the same transaction. On a box already shipped, only the
    courier and tracking number are corrected (no second email). True when it was shipped
    now."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    _check_tracking(courier, tracking_no)
    typed = TrackingLine(0, shipment_id, courier.strip(), tracking_no.strip())
    lines, problems = await couriers.checked_lines(batch.cooperative_id, [typed])
    if problems:
        raise FieldErrors({"courier": problems[0].message})
    line = lines[0]
    async with in_transaction() as conn:
        if await _ship(conn, batch, [line], links=links, now=now):
            return True
        await _refuse(batch, shipment_id, conn)
        await (
            Shipment.filter(id=shipment_id, batch_id=batch.id, status=ShipmentStatus.SHIPPED)
            .using_db(conn)
            .update(**_tracking(line))
        )
        return False


def _tracking(line: TrackingLine) -> dict[str, str]:
    return {
        "courier": line.courier,
        "tracking_no": line.tracking_no,
        "tracking_url": line.tracking_url,
    }


async def _ship(
    conn: BaseDBAsyncClient,
    batch: Batch,
    lines: list[TrackingLine],
    *,
    links: Links,
    now: datetime,
) -> int:
    """Ship each line's box if it is still to be shipped (a conditional update each), and
    queue its email; returns how many were shipped now."""
    shipped: list[TrackingLine] = []
    for line in lines:
        changed = await (
            Shipment.filter(id=line.shipment_id, batch_id=batch.id, status__in=SHIPPABLE)
            .using_db(conn)
            .update(status=ShipmentStatus.SHIPPED, shipped_at=now, **_tracking(line))
        )
        if changed:
            shipped.append(line)
    for start in range(0, len(shipped), CHUNK):
        await _mail_shipped(conn, batch, shipped[start : start + CHUNK], links, now)
    return len(shipped)


async def _mail_shipped(
    conn: BaseDBAsyncClient,
    batch: Batch,
    lines: list[TrackingLine],
    links: Links,
    now: datetime,
) -> None:
    ids = [line.shipment_id for line in lines]
    sub_of = dict(
        await Shipment.filter(id__in=ids).using_db(conn).values_list("id", "subscription_id")
    )
    customer_of = dict(
        await Subscription.filter(id__in=set(sub_of.values()))
        .using_db(conn)
        .values_list("id", "customer_id")
    )
    users = {u.id: u for u in await User.filter(id__in=set(customer_of.values())).using_db(conn)}
    items: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    crop_ids: set[int] = set()
    for shipment_id, crop_id, grams in (
        await Allocation.filter(shipment_id__in=ids)
        .using_db(conn)
        .values_list("shipment_id", "lot__crop_id", "grams")
    ):
        items[shipment_id][crop_id] += grams
        crop_ids.add(crop_id)
    crops = {c.id: c for c in await Crop.filter(id__in=crop_ids).using_db(conn)}
    for line in lines:
        sub_id = sub_of[line.shipment_id]
        contents = [(crops[c], g) for c, g in items[line.shipment_id].items()]
        await queue_mail(
            user=users[customer_of[sub_id]],
            key=f"shipped:{line.shipment_id}",
            render=_shipped_mail(
                batch.ship_on, line, contents, links.subscription(sub_id, "deliveries")
            ),
            now=now,
            conn=conn,
            cooperative_id=batch.cooperative_id,
        )


def _shipped_mail(ship_on: date, line: TrackingLine, contents: list, link: str):
    def render() -> Letter:
        subject = _("Your box of %(day)s is on its way") % {"day": ship_on.isoformat()}
        items = [
            (localized(crop.name, crop.name_en), amount_text(grams, crop.unit, jin=False))
            for crop, grams in contents
        ]
        return Letter("shipped", subject, {
            "day": ship_on.isoformat(), "courier": line.courier, "tracking": line.tracking_no,
            "items": items, "link": link, "track": line.tracking_url,
        })  # fmt: skip

    return render


class TrackingFileErrors(FieldErrors):
    """A tracking file with bad lines (`problems`): nothing was applied."""

    def __init__(self, problems: list[LineProblem]):
        super().__init__({"file": _("Nothing was saved: the file has mistakes.")})
        self.problems = problems


async def apply_tracking_csv(
    *, manager: User, batch_id: int, data: bytes, links: Links, now: datetime
) -> int:
    """Ship every box listed in an uploaded CSV of this batch, all or nothing, each with its
    email; boxes already shipped get their courier and tracking number corrected. Raises
    TrackingFileErrors listing every bad line. Returns how many boxes were shipped now."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    lines, problems = tracking_csv.parse(data)
    lines, unknown = await couriers.checked_lines(batch.cooperative_id, lines)
    problems.extend(unknown)
    async with in_transaction() as conn:
        status_of: dict[int, str] = {}
        ids = sorted(line.shipment_id for line in lines)  # boxes are locked in id order
        for start in range(0, len(ids), CHUNK):
            rows = (  # model rows: tortoise drops FOR UPDATE from .values() queries
                await Shipment.filter(id__in=ids[start : start + CHUNK], batch_id=batch.id)
                .select_for_update()
                .using_db(conn)
                .order_by("id")
                .only("id", "status")
            )
            status_of.update((row.id, row.status) for row in rows)
        for line in lines:
            status = status_of.get(line.shipment_id)
            if status is None or status == ShipmentStatus.EMPTY:
                problem = "unknown" if status is None else "empty_box"
                number = rules.shipment_number(line.shipment_id)
                problems.append(LineProblem(line.line, problem, number))
        if problems:
            raise TrackingFileErrors(sorted(problems, key=lambda p: p.line))
        shipped = await _ship(conn, batch, lines, links=links, now=now)
        for line in lines:
            if status_of[line.shipment_id] == ShipmentStatus.SHIPPED:
                await (
                    Shipment.filter(id=line.shipment_id, batch_id=batch.id)
                    .using_db(conn)
                    .update(**_tracking(line))
                )
        return shipped


def problem_message(p: LineProblem) -> str:
    """A tracking problem in the user's language."""
    if p.message:  # a field reader's, already in it
        return p.message
    return {
        "too_large": _("The file is too large: at most 1 MB."),
        "too_many_rows": _("The file has too many lines: at most 20,000."),
        "encoding": _("The file is not a CSV file in UTF-8 or GBK."),
        "no_lines": _("The file has no lines."),
        "columns": _("Expected three columns: shipment number, courier, tracking number."),
        "number": _("“%(value)s” is not a shipment number."),
        "duplicate": _("Shipment %(value)s is also on line %(other)s."),
        "unknown": _("Shipment %(value)s is not in this batch."),
        "empty_box": _("Shipment %(value)s is an empty box: there is nothing to ship."),
    }[p.problem] % {"value": p.value, "other": p.other_line}

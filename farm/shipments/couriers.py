"""The couriers a cooperative ships with: a name in both languages, the link where a customer
follows a box (a pattern with {number}), and whether its waybills hide the middle of the
phone number. The usual Chinese express couriers (with kuaidi100's tracking page, which
follows any of them) are the list a cooperative starts from, made on first sight of the
list; it edits, adds and retires them.

Once a cooperative has a list, a box is shipped only with one of its couriers (by either
name, whatever the case), saved under its Chinese name with its tracking link; a cooperative
that never opened the list types any courier, as before, and its boxes have no link."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from farm import forms
from farm.accounts.models import User
from farm.csvfiles import CsvStream, csv_chunks
from farm.errors import FieldErrors
from farm.i18n import _
from farm.land.models import Cooperative
from farm.paging import Page, paginate
from farm.shipments import rules
from farm.shipments.console import own_batch
from farm.shipments.models import SHIPPABLE, Courier, Shipment
from farm.shipments.tracking_csv import LineProblem, TrackingLine
from farm.sql import id_chunks, one_or_not_found

COURIERS_PER_PAGE = 30
MAX_NAME = 40
MAX_PATTERN = 300
KUAIDI100 = "https://www.kuaidi100.com/chaxun?com=%s&nu=" + rules.TRACKING_NUMBER_SLOT

# (name, English name, kuaidi100's code for it)
DEFAULTS = (
    ("顺丰速运", "SF Express", "shunfeng"),
    ("中通快递", "ZTO Express", "zhongtong"),
    ("圆通速递", "YTO Express", "yuantong"),
    ("韵达快递", "Yunda Express", "yunda"),
    ("申通快递", "STO Express", "shentong"),
    ("京东物流", "JD Logistics", "jd"),
    ("中国邮政EMS", "China Post EMS", "ems"),
    ("极兔速递", "J&T Express", "jtexpress"),
)


@dataclass(frozen=True)
class CourierInput:
    name: str
    name_en: str
    tracking_url: str
    privacy_waybill: str  # "1" when ticked
    retired: str = ""  # "1" when ticked


async def ensure_defaults(cooperative_id: int) -> None:
    if await Courier.filter(cooperative_id=cooperative_id).exists():
        return
    rows = [
        Courier(cooperative_id=cooperative_id, name=name, name_en=name_en,
                tracking_url=KUAIDI100 % code)
        for name, name_en, code in DEFAULTS
    ]  # fmt: skip
    with contextlib.suppress(IntegrityError):  # another manager's first sight, a moment ago
        await Courier.bulk_create(rows)  # one statement: all of them or none


async def list_couriers(*, manager: User, text: str = "", page: int = 1) -> Page[Courier]:
    """A page of the cooperative's couriers (those whose name holds `text`), retired last."""
    await ensure_defaults(manager.cooperative_id)
    query = Courier.filter(cooperative_id=manager.cooperative_id)
    if text:
        query = query.filter(Q(name__icontains=text) | Q(name_en__icontains=text))
    return await paginate(
        query, page=page, size=COURIERS_PER_PAGE, order_by=("retired", "name", "id")
    )


async def own_courier(*, manager: User, courier_id: int) -> Courier:
    return await one_or_not_found(
        Courier.filter(id=courier_id, cooperative_id=manager.cooperative_id),
        _("This courier is not on your list."),
    )


def _pattern(value: str) -> str:
    pattern = forms.text(value, limit=MAX_PATTERN)
    if pattern and not rules.tracking_pattern_ok(pattern):
        raise forms.Problem(
            "invalid",
            _("Write the courier's tracking page as an https:// address with {number} where "
              "the tracking number goes, e.g. https://www.kuaidi100.com/chaxun?nu={number}."),
        )  # fmt: skip
    return pattern


def _check(data: CourierInput) -> dict[str, Any]:
    form = forms.Form()
    values = {
        "name": form.read("name", forms.text, data.name, limit=MAX_NAME, required=True),
        "name_en": form.read("name_en", forms.text, data.name_en, limit=MAX_NAME),
        "tracking_url": form.read("tracking_url", _pattern, data.tracking_url),
        "privacy_waybill": data.privacy_waybill == "1",
        "retired": data.retired == "1",
    }
    form.check()
    return values


def _name_taken() -> FieldErrors:
    return FieldErrors({"name": _("Your list has a courier of this name already.")})


async def _save(manager: User, courier: Courier, values: dict[str, Any]) -> Courier:
    taken = Courier.filter(cooperative_id=manager.cooperative_id, name=values["name"])
    if courier.id is not None:
        taken = taken.exclude(id=courier.id)
    if await taken.exists():
        raise _name_taken()
    courier.update_from_dict(values)
    try:
        await courier.save()
    except IntegrityError:  # taken a moment ago: the unique index says so
        raise _name_taken() from None
    return courier


async def create_courier(*, manager: User, data: CourierInput) -> Courier:
    values = _check(data)
    await ensure_defaults(manager.cooperative_id)  # the usual list first, as on the page
    return await _save(manager, Courier(cooperative_id=manager.cooperative_id), values)


async def update_courier(*, manager: User, courier_id: int, data: CourierInput) -> Courier:
    """Its names, link and waybill choice, or retire it (boxes shipped keep its name)."""
    courier = await own_courier(manager=manager, courier_id=courier_id)
    return await _save(manager, courier, _check(data))


async def labels_mask_phone(manager: User) -> bool:
    return bool(
        await Cooperative.filter(id=manager.cooperative_id)
        .first()
        .values_list("labels_mask_phone", flat=True)
    )


async def set_labels_mask_phone(manager: User, masked: bool) -> None:
    """From the next documents made (a batch's paper already made is remade on its page)."""
    await Cooperative.filter(id=manager.cooperative_id).update(labels_mask_phone=masked)


async def active_couriers(cooperative_id: int) -> list[Courier]:
    return list(
        await Courier.filter(cooperative_id=cooperative_id, retired=False).order_by("name", "id")
    )


def find(couriers: Sequence[Courier], typed: str) -> Courier | None:
    """The courier typed, by either name, whatever the case and surrounding spaces."""
    key = typed.strip().casefold()
    for courier in couriers:
        if key in (courier.name.casefold(), courier.name_en.casefold()):
            return courier
    return None


def unknown_courier(typed: str, couriers: Sequence[Courier]) -> str:
    return _("“%(value)s” is not one of your couriers (%(names)s): add it under Couriers.") % {
        "value": typed,
        "names": ", ".join(c.name for c in couriers),
    }


async def checked_lines(
    cooperative_id: int, lines: list[TrackingLine]
) -> tuple[list[TrackingLine], list[LineProblem]]:
    """Each line with its courier as the list names it and its box's tracking link, and a
    problem for each courier not on the list; lines as they are while the cooperative keeps
    no list (nothing is known of its couriers)."""
    if not await Courier.filter(cooperative_id=cooperative_id).exists():
        return lines, []
    couriers = await active_couriers(cooperative_id)
    good: list[TrackingLine] = []
    problems: list[LineProblem] = []
    for line in lines:
        courier = find(couriers, line.courier)
        if courier is None:
            message = unknown_courier(line.courier, couriers)
            problems.append(LineProblem(line.line, "courier_unknown", line.courier, 0, message))
            continue
        link = rules.tracking_link(courier.tracking_url, line.tracking_no)
        good.append(replace(line, courier=courier.name, tracking_url=link))
    return good, problems


# ---- the addresses a courier's bulk-order upload takes ----

ADDRESS_CHUNK = 2000


async def addresses_csv(*, manager: User, batch_id: int, courier_id: int | None) -> CsvStream:
    """The batch's boxes still to hand to a courier (to be packed or packed), one line each,
    in the columns couriers' bulk-order templates ask for (SF, ZTO, YTO and the others take a
    file of this shape: an order number of ours, the recipient, mobile, province, city and
    address, what is sent and how many pieces). The order number is the box's number, which
    the tracking file then names. The privacy-waybill column says whether the courier is to
    hide the middle of the phone number on its waybill (the courier's setting)."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    courier = None
    if courier_id is not None:
        courier = await own_courier(manager=manager, courier_id=courier_id)
    privacy = _("Yes") if courier is None or courier.privacy_waybill else _("No")
    header = [_("Order number"), _("Recipient"), _("Mobile"), _("Province"), _("City"),
              _("Address"), _("Item"), _("Pieces"), _("Privacy waybill"), _("Note")]  # fmt: skip
    item = _("Farm produce")
    plot_label = _("Plot %(code)s")

    async def chunks() -> AsyncIterator[list[list[object]]]:
        shippable = Shipment.filter(batch_id=batch.id, status__in=SHIPPABLE)
        async for rows in id_chunks(
            shippable, ADDRESS_CHUNK,
            lambda chunk: chunk.values_list("id", "recipient", "phone", "province", "city",
                                            "address", "subscription__plot__code"),
            id_of=itemgetter(0),
        ):  # fmt: skip
            yield [
                [rules.shipment_number(sid), recipient, phone, province, city, address, item, 1,
                 privacy, plot_label % {"code": code}]
                for sid, recipient, phone, province, city, address, code in rows
            ]  # fmt: skip

    suffix = f"-{courier.name}" if courier else ""
    return CsvStream(
        chunks=csv_chunks(header, chunks()),
        filename=_("Addresses %(day)s") % {"day": batch.ship_on.isoformat()} + suffix + ".csv",
        fallback=f"addresses-{batch.ship_on.isoformat()}.csv",
    )

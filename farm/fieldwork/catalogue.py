"""The cooperative's crop catalogue, kept by its managers: names in both languages, shelf
life at room temperature, leafy or not, and the unit a crop is harvested and shipped in (kg,
or pieces: eggs are counted). A crop with harvest lots is in use: it cannot be deleted, and
its unit cannot change (its lots' amounts would change meaning), but it can be retired,
which takes it off new harvest entries and keeps it in the history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import Conflict, FieldErrors
from farm.fieldwork import services
from farm.fieldwork.models import Crop, CropUnit, HarvestLot
from farm.i18n import _
from farm.paging import Page, paginate
from farm.sql import count_by, one_or_not_found

CROPS_PER_PAGE = 30
MAX_CROP_NAME = 40
MAX_SHELF_LIFE_DAYS = 3650  # rice and oil keep a year; ten is a typo


@dataclass(frozen=True)
class CropInput:
    name: str
    name_en: str
    shelf_life_days: str
    leafy: str  # "1" when ticked
    unit: str


@dataclass(frozen=True)
class CropRow:
    crop: Crop
    lots: int  # harvest lots of this crop: in use when above zero

    @property
    def in_use(self) -> bool:
        return self.lots > 0


async def list_crops(*, manager: User, text: str = "", page: int = 1) -> Page[CropRow]:
    """A page of the cooperative's crops (those whose name holds `text`), in use or not,
    retired last; the default list is made on first sight, as the harvest form does."""
    await services.crops(cooperative_id=manager.cooperative_id)
    query = Crop.filter(cooperative_id=manager.cooperative_id)
    if text:
        query = query.filter(Q(name__icontains=text) | Q(name_en__icontains=text))
    found = await paginate(query, page=page, size=CROPS_PER_PAGE, order_by=("retired", "name"))
    lots = await count_by(HarvestLot.filter(crop_id__in=[c.id for c in found.items]), "crop_id")
    rows = [CropRow(c, lots.get(c.id, 0)) for c in found.items]
    return Page(rows, found.number, found.size, found.total)


async def own_crop(*, manager: User, crop_id: int) -> CropRow:
    """The manager's crop with its lot count; any other is 'not found'."""
    crop = await one_or_not_found(
        Crop.filter(id=crop_id, cooperative_id=manager.cooperative_id),
        _("This crop is not on your list."),
    )
    return CropRow(crop, await HarvestLot.filter(crop_id=crop.id).count())


def _check(data: CropInput) -> dict[str, Any]:
    form = forms.Form()
    values = {
        "name": form.read("name", forms.text, data.name, limit=MAX_CROP_NAME, required=True),
        "name_en": form.read("name_en", forms.text, data.name_en, limit=MAX_CROP_NAME),
        "shelf_life_days": form.read(
            "shelf_life_days", forms.whole, data.shelf_life_days, low=1, high=MAX_SHELF_LIFE_DAYS
        ),
        "leafy": data.leafy == "1",
        "unit": form.read(
            "unit",
            forms.choice,
            data.unit,
            set(CropUnit),
            message=_("Choose kg or pieces."),
        ),
    }
    form.check()
    return values


def _name_taken() -> FieldErrors:
    return FieldErrors({"name": _("Your list has a crop of this name already.")})


async def _refuse_taken_name(*, manager: User, name: str, crop_id: int | None) -> None:
    taken = Crop.filter(cooperative_id=manager.cooperative_id, name=name)
    if crop_id is not None:
        taken = taken.exclude(id=crop_id)
    if await taken.exists():
        raise _name_taken()


async def create_crop(*, manager: User, data: CropInput) -> Crop:
    """A new crop on the cooperative's list."""
    values = _check(data)
    await services.crops(cooperative_id=manager.cooperative_id)  # the defaults first
    await _refuse_taken_name(manager=manager, name=values["name"], crop_id=None)
    try:
        return await Crop.create(cooperative_id=manager.cooperative_id, **values)
    except IntegrityError:  # another manager added it a moment ago: the unique index says so
        raise _name_taken() from None


async def update_crop(*, manager: User, crop_id: int, data: CropInput) -> Crop:
    """Change a crop's names, shelf life and leafiness; its unit only while no lot uses it."""
    await own_crop(manager=manager, crop_id=crop_id)
    values = _check(data)
    await _refuse_taken_name(manager=manager, name=values["name"], crop_id=crop_id)
    try:
        async with in_transaction() as conn:
            crop = await Crop.select_for_update().using_db(conn).get(id=crop_id)
            in_use = await HarvestLot.filter(crop_id=crop.id).using_db(conn).exists()
            if in_use and values["unit"] != crop.unit:
                raise FieldErrors(
                    {"unit": _("Harvests of this crop are recorded, so its unit can no longer "
                               "change.")}
                )  # fmt: skip
            crop.update_from_dict(values)
            await crop.save(using_db=conn)
    except IntegrityError:  # the name was taken a moment ago: the unique index says so
        raise _name_taken() from None
    return crop


async def set_retired(*, manager: User, crop_id: int, retired: bool) -> Crop:
    """Retire a crop (no new harvests of it) or bring it back."""
    row = await own_crop(manager=manager, crop_id=crop_id)
    await Crop.filter(id=row.crop.id).update(retired=retired)
    row.crop.retired = retired
    return row.crop


async def delete_crop(*, manager: User, crop_id: int) -> None:
    """Remove a crop that no harvest lot uses; one in use can only be retired."""
    await own_crop(manager=manager, crop_id=crop_id)
    async with in_transaction() as conn:
        crop = await Crop.select_for_update().using_db(conn).get(id=crop_id)
        if await HarvestLot.filter(crop_id=crop.id).using_db(conn).exists():
            raise Conflict(
                _("Harvests of this crop are recorded, so it cannot be deleted: retire it.")
            )
        await Crop.filter(id=crop.id).using_db(conn).delete()

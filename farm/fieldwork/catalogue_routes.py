"""The console's crop catalogue: the list, a new crop, a crop's page (edit, retire or bring
back, delete while unused). Each route reads the form, calls one service in
farm.fieldwork.catalogue, and renders or redirects; bad input is shown beside its field (422),
a refused delete as a notice (409)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import User
from farm.errors import Conflict, DomainError
from farm.fieldwork import catalogue
from farm.fieldwork.catalogue import CropInput
from farm.fieldwork.models import Crop, CropUnit
from farm.web import (
    Shown,
    form_page,
    form_template,
    int_param,
    manager_list,
    render,
    require_manager,
)

NAMES = ("name", "name_en", "shelf_life_days", "leafy", "unit")

crops_page = manager_list(
    "fieldwork/crops.html", section="crops", name="crops", lister=catalogue.list_crops
)


def _crop_form(crop: Crop) -> dict[str, str]:
    return {
        "name": crop.name,
        "name_en": crop.name_en,
        "shelf_life_days": str(crop.shelf_life_days),
        "leafy": "1" if crop.leafy else "",
        "unit": str(crop.unit),
    }


async def crop_new(request: Request) -> Response:
    manager = require_manager(request)

    async def save(values: dict[str, str]) -> str:
        crop = await catalogue.create_crop(manager=manager, data=CropInput(**values))
        return f"/manage/crops/{crop.id}?saved=1"

    context = {"section": "crops", "row": None, "form": {"unit": CropUnit.KG.value}, "errors": {}}
    return await form_template(request, "fieldwork/crop.html", context, save=save, names=NAMES)


async def _show(request: Request, crop_id: int, shown: Shown) -> Response:
    row = await catalogue.own_crop(manager=require_manager(request), crop_id=crop_id)
    context = {
        "section": "crops",
        "row": row,
        "form": shown.form(_crop_form(row.crop)),
        "errors": shown.errors,
        "notice": shown.notice,
        "saved": request.query_params.get("saved") == "1",
    }
    return render(request, "fieldwork/crop.html", context, shown.status_code)


def _crop_route(
    act: Callable[[User, int, dict[str, str]], Awaitable[str]],
    *,
    names: tuple[str, ...] = (),
    notices: tuple[type[DomainError], ...] = (Conflict,),
) -> Callable[[Request], Awaitable[Response]]:
    """The route of a form on a crop's page (its fields; a button: retire, delete): `act`
    does it and says where to go next; a refusal shows the crop's page with it, a Conflict
    (a crop in use) as a notice, 409, for a button."""

    async def route(request: Request) -> Response:
        manager = require_manager(request)
        crop_id = int_param(request, "crop_id")

        async def show(shown: Shown) -> Response:
            return await _show(request, crop_id, shown)

        async def save(values: dict[str, str]) -> str:
            return await act(manager, crop_id, values)

        return await form_page(request, show=show, save=save, names=names, notices=notices)

    return route


async def _update(manager: User, crop_id: int, values: dict[str, str]) -> str:
    await catalogue.update_crop(manager=manager, crop_id=crop_id, data=CropInput(**values))
    return f"/manage/crops/{crop_id}?saved=1"


async def _retire(manager: User, crop_id: int, values: dict[str, str]) -> str:
    """Retire a crop (retired=1) or bring it back (retired=0)."""
    retired = values["retired"] == "1"
    await catalogue.set_retired(manager=manager, crop_id=crop_id, retired=retired)
    return f"/manage/crops/{crop_id}?saved=1"


async def _delete(manager: User, crop_id: int, values: dict[str, str]) -> str:
    await catalogue.delete_crop(manager=manager, crop_id=crop_id)
    return "/manage/crops?deleted=1"


crop_page = _crop_route(_update, names=NAMES, notices=())
crop_retire = _crop_route(_retire, names=("retired",))
crop_delete = _crop_route(_delete)


routes = [
    Route("/manage/crops", crops_page, name="manage_crops"),
    Route("/manage/crops/new", crop_new, methods=["GET", "POST"], name="manage_crop_new"),
    Route("/manage/crops/{crop_id}", crop_page, methods=["GET", "POST"], name="manage_crop"),
    Route("/manage/crops/{crop_id}/retire", crop_retire, methods=["POST"], name="manage_retire"),
    Route("/manage/crops/{crop_id}/delete", crop_delete, methods=["POST"], name="manage_crop_del"),
]

"""The harvest lot's correction page in the manager's console (corrections.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.errors import Conflict
from farm.shipments import corrections
from farm.web import Shown, form_page, int_param, now, render, require_manager, today

NAMES = ("kg", "reason", "void")


async def correct_lot(request: Request) -> Response:
    manager = require_manager(request)
    lot_id = int_param(request, "lot_id")

    async def show(shown: Shown) -> Response:
        view = await corrections.lot_correction(manager=manager, lot_id=lot_id)
        context = {"section": "harvests", "view": view, "form": {}, "errors": {},
                   "notice": shown.notice, **shown.context()}  # fmt: skip
        return render(request, "manage/corrections/lot.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        await corrections.correct_lot(
            manager=manager, lot_id=lot_id, kg=values["kg"], reason=values["reason"],
            void=values["void"] == "1", today=today(request), now=now(),
        )  # fmt: skip
        return f"/manage/harvests/{lot_id}/correct?saved=1"

    return await form_page(request, show=show, save=save, names=NAMES, notices=(Conflict,))


routes = [
    Route("/manage/harvests/{lot_id}/correct", correct_lot, methods=["GET", "POST"],
          name="manage_correct_lot"),
]  # fmt: skip

"""The customer's view of the land: the season's offer and a plan's field map."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import Role
from farm.land import services
from farm.land.models import PerkKind
from farm.web import int_param, now, parse_id, render, today


async def home(request: Request) -> Response:
    offers = await services.open_offers(today=today(request), now=now())
    seasons: dict[int, list[services.PlanOffer]] = {}
    for offer in offers:
        seasons.setdefault(offer.season.id, []).append(offer)
    return render(request, "land/home.html", {"seasons": list(seasons.values())})


async def _plan_context(request: Request) -> dict:
    """The offer and the map a plan's page shows: ?section=N shows one section of a big
    field, ?plot=ID chooses a plot (and shows its section)."""
    user = request.state.user
    offer = await services.plan_offer(
        plan_id=int_param(request, "plan_id"),
        now=now(),
        previewer_cooperative_id=(
            user.cooperative_id if user is not None and user.role == Role.MANAGER else None
        ),
    )
    section = parse_id(request.query_params.get("section"))
    fmap = await services.field_map(
        offer=offer,
        now=now(),
        section=section - 1 if section is not None else None,
        plot_id=parse_id(request.query_params.get("plot")),
    )
    taken, nearby = None, []
    asked = parse_id(request.query_params.get("taken"))
    if asked is not None:  # a reservation found the plot taken: the nearest free ones
        taken, nearby = await services.nearest_free_plots(offer=offer, plot_id=asked, now=now())
    held = 0
    if user is not None and user.role == Role.CUSTOMER:
        held = await services.plots_held_by(plan_id=offer.plan.id, customer_id=user.id)
    return {
        "offer": offer,
        "fmap": fmap,
        "held": held,
        "taken": taken,
        "nearby": nearby,
        "PerkKind": PerkKind,
        # A draft's preview shows what customers will see; its reservation is refused.
        "on_sale": offer.season.sale_starts_on <= today(request) < offer.season.sale_ends_on,
    }


async def plan_page(request: Request) -> Response:
    return render(request, "land/plan.html", await _plan_context(request))


async def plan_map(request: Request) -> Response:
    """The map and the pick panel alone, for the page's script to swap in without reloading
    the whole page (the same URL without /map is the full page)."""
    response = render(request, "land/plan_map.html", await _plan_context(request))
    response.headers["cache-control"] = "no-store"
    return response


routes = [
    Route("/", home, name="home"),
    Route("/plans/{plan_id}", plan_page, name="plan"),
    Route("/plans/{plan_id}/map", plan_map, name="plan_map"),
]

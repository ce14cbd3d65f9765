"""The plot's page as a story, newest first: the family's sign (its photo once the cooperative
put one up), what was sown and when, the crop's stage on the season's line, the households
who tend it (those who agreed to be shown), the work with its photos, the harvests a week at
a time, and the boxes. Built on farm.fieldwork.timeline's plot page, which checks the
subscription is the customer's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from farm.accounts.models import User
from farm.fieldwork import timeline
from farm.fieldwork.models import Activity, Crop, Household, Photo, WorkEntry
from farm.shipments.models import Shipment, ShipmentStatus
from farm.story import rules

SOWING = (Activity.SOWING, Activity.TRANSPLANTING)


@dataclass(frozen=True)
class Card:
    """One card of the story: a day's work, a week's harvests, or a box."""

    day: date
    entry: WorkEntry | None = None
    week: rules.HarvestWeek | None = None
    box: Shipment | None = None


@dataclass(frozen=True)
class Mark:
    what: str  # "sown", "harvest", "today"
    day: date
    at: float  # % of the season's line


@dataclass(frozen=True)
class Story:
    plot: timeline.PlotPage
    sign_photo: Photo | None
    sown: WorkEntry | None  # the season's first sowing on the plot
    stage: rules.Stage
    marks: list[Mark]
    households: list[Household]
    cards: list[Card]
    crops: dict[int, Crop]
    photo_count: int

    @property
    def subscription(self):
        return self.plot.subscription


async def plot_story(*, customer: User, subscription_id: int, today: date) -> Story:
    """The customer's own plot's story (not found for anyone else's)."""
    plot = await timeline.plot_page(customer=customer, subscription_id=subscription_id)
    sub = plot.subscription
    season = sub.season
    entries = [i.entry for i in plot.items if i.entry is not None]
    lots = [i.lot for i in plot.items if i.lot is not None]
    sowings = sorted((e for e in entries if e.activity in SOWING), key=lambda e: e.worked_on)
    sown = sowings[0] if sowings else None
    first_harvest = min((lot.harvested_on for lot in lots), default=None)
    stage = rules.stage(
        sown_on=sown.worked_on if sown else None, first_harvest_on=first_harvest, today=today
    )
    span = {"starts_on": season.starts_on, "ends_on": season.ends_on}
    marks = [Mark("sown", sown.worked_on, rules.position(sown.worked_on, **span))] if sown else []
    if first_harvest is not None:
        marks.append(Mark("harvest", first_harvest, rules.position(first_harvest, **span)))
    marks.append(Mark("today", today, rules.position(today, **span)))

    weeks = rules.harvest_weeks(
        rules.Picked(day=lot.harvested_on, crop_id=lot.crop_id, amount=lot.weight_g,
                     code=lot.code, shared=lot.plot_id is None, source=lot)
        for lot in lots
    )  # fmt: skip
    boxes = await Shipment.filter(subscription_id=sub.id).exclude(status=ShipmentStatus.EMPTY)
    cards = [Card(day=e.worked_on, entry=e) for e in entries]
    cards += [Card(day=w.last_day, week=w) for w in weeks]
    cards += [Card(day=b.ship_on, box=b) for b in boxes]
    order = {"box": 0, "week": 1, "entry": 2}  # on one day: the box, then harvests, then work
    cards.sort(
        key=lambda c: (c.day, -order["box" if c.box else "week" if c.week else "entry"]),
        reverse=True,
    )
    # A sign's photo is on an entry of this plot alone (never the whole field's): the newest.
    signs = [p for e in entries if not e.whole_field for p in e.photos if p.sign]
    sign_photo = signs[0] if signs else None
    crops = {lot.crop_id: lot.crop for lot in lots}
    return Story(
        plot=plot,
        sign_photo=sign_photo,
        sown=sown,
        stage=stage,
        marks=marks,
        households=await timeline.tenders(plot=plot),
        cards=cards,
        crops=crops,
        photo_count=sum(len(e.photos) for e in entries),
    )

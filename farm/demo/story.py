"""The running season's story: the work on the demo field with the households who did it
(one who agreed to be shown to the families, one who did not), the field photos, and each
family's name sign, so the demo customer's plot page reads as a season."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import anyio

from farm.accounts.models import User
from farm.demo import pictures
from farm.fieldwork.models import (
    Activity,
    Household,
    LandTransfer,
    Photo,
    WorkEntry,
    WorkEntryPlot,
    WorkInput,
    WorkShift,
)
from farm.fieldwork.photos import PhotoStore, check_photo
from farm.land.models import Cooperative, Field, Plot
from farm.subscriptions.models import Subscription


async def _photo(store: PhotoStore | None, entry: WorkEntry, draw: Callable[[], bytes],
                 *, sign: bool = False) -> None:  # fmt: skip
    if store is None:
        return
    checked = await anyio.to_thread.run_sync(lambda: check_photo(draw()))
    name = await store.save(checked)
    await Photo.create(entry=entry, file_name=name, width=checked.width,
                       height=checked.height, sign=sign)  # fmt: skip


async def load_story(
    *, coop: Cooperative, field: Field, plots: list[Plot], starts: date, today: date,
    logger: User, store: PhotoStore | None,
) -> None:  # fmt: skip
    """Households, work and photos on the running season's field, from its start to today.
    Without a store (tests that do not look at photos) the work is logged without them."""
    shown = await Household.create(
        cooperative=coop, name="周秀英家", village="青山村", rent_fen_per_mu_year=75000,
        wage_fen_per_hour=1800, shown_to_subscribers=True,
        about="种了三十年菜，南坡菜园的每一垄都是她理的。",
    )  # fmt: skip
    if store is not None:
        checked = await anyio.to_thread.run_sync(lambda: check_photo(pictures.farmer()))
        shown.picture = await store.save(checked)
        await shown.save()
    await LandTransfer.create(
        household=shown, field=field, area_m2=Decimal("400"),
        rent_fen_per_mu_year=shown.rent_fen_per_mu_year,
    )  # fmt: skip
    # A household that did not agree to be shown: it works here, its name stays off the page.
    hidden = await Household.filter(cooperative=coop, name="王桂兰家").first()
    tended = plots[:4]

    async def work(day: date, activity: Activity, notes: str, *, on: list[Plot] | None = None,
                   hours: list[tuple[Household | None, str]] = ()) -> WorkEntry | None:  # fmt: skip
        if day >= today:
            return None
        entry = await WorkEntry.create(
            cooperative=coop, field=field, activity=activity, worked_on=day, notes=notes,
            whole_field=on is None, logged_by=logger,
            created_at=datetime.combine(day, time(18), tzinfo=UTC),
        )  # fmt: skip
        for plot in on or []:
            await WorkEntryPlot.create(entry=entry, plot=plot)
        for household, h in hours:
            if household is not None:
                await WorkShift.create(entry=entry, household=household, hours=Decimal(h))
        return entry

    # Seedlings the cooperative raised go in on the first day: the first greens are thinned
    # out and picked within days (the demo's harvests begin on the third).
    sown = await work(starts, Activity.TRANSPLANTING,
                      "移栽了合作社育好的青菜苗和萝卜苗，每垄两行；间下的嫩苗几天后就能吃。",
                      on=tended, hours=[(shown, "4"), (hidden, "3")])  # fmt: skip
    if sown is not None:
        await WorkInput.create(entry=sown, name="青菜苗、萝卜苗", dose="每分地 600 棵")
        await _photo(store, sown, pictures.sprouts)
    for plot in tended:  # each family's name sign goes up
        sub = await Subscription.filter(plot=plot).first()
        entry = await work(
            starts + timedelta(days=2), Activity.OTHER, "立起了写着您家名字的牌子。",
            on=[plot], hours=[(shown, "0.5")],
        )  # fmt: skip
        if entry is not None and sub is not None:
            text = f"{sub.sign_name}家的地"
            await _photo(store, entry, lambda t=text, c=plot.code: pictures.name_sign(t, c),
                         sign=True)  # fmt: skip
    watered = await work(starts + timedelta(days=8), Activity.WATERING,
                         "苗都缓过来了，全田浇了一遍水。", hours=[(shown, "2")])  # fmt: skip
    if watered is not None:
        await _photo(store, watered, lambda: pictures.greens(9))
    weeded = await work(starts + timedelta(days=20), Activity.WEEDING, "手工除草，不打除草剂。",
                        on=tended, hours=[(shown, "3"), (hidden, "3")])  # fmt: skip
    if weeded is not None:
        await _photo(store, weeded, lambda: pictures.greens(7))
    fed = await work(starts + timedelta(days=30), Activity.FERTILISING, "追了一次农家肥。",
                     hours=[(hidden, "2")])  # fmt: skip
    if fed is not None:
        await WorkInput.create(entry=fed, name="腐熟农家肥", organic=True, dose="每分地 20 公斤")
    photos = await work(today - timedelta(days=4), Activity.OTHER, "青菜长得正好，萝卜快能拔了。",
                        on=tended)  # fmt: skip
    if photos is not None:
        await _photo(store, photos, pictures.greens)
        await _photo(store, photos, pictures.harvest)
        await _photo(store, photos, lambda: pictures.farmer(8, shirt=(150, 70, 60)))

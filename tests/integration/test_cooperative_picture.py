"""A cooperative's picture: its manager uploads it on /manage/cooperative (checked, shrunk and
stored by the field photos' pipeline), customers see it on the plan page and the family's
plot page; a file that is not a photo is refused and changes nothing; a replaced picture's
files are deleted; nobody else can change it."""

from __future__ import annotations

import io

from PIL import Image

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Cooperative, Plot
from tests.integration.test_fieldwork import coop_with_manager, subscriber_of
from tests.support import log_in_client


def png(width: int = 3000, height: int = 2000) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 140, 60)).save(out, "PNG")
    return out.getvalue()


async def upload(client, token, data: bytes, path="/manage/cooperative/picture"):
    return await client.post(
        path, data={"csrf_token": token}, files={"picture": ("village.png", data, "image/png")}
    )


async def test_a_manager_adds_the_picture_and_customers_see_it_on_plan_and_plot_pages(client, app):
    plan, manager, token = await coop_with_manager(client)
    r = await upload(client, token, png())
    assert r.status_code == 303 and r.headers["location"].endswith("done=picture#picture")
    coop = await Cooperative.get(id=manager.cooperative_id)
    assert coop.picture
    photos = app.state.settings.data_dir / "photos"
    with Image.open(photos / f"{coop.picture}.jpg") as stored:  # shrunk and re-encoded
        assert stored.format == "JPEG" and max(stored.size) == 2048
    assert f"/cooperatives/{coop.id}/picture" in (await client.get("/manage/cooperative")).text
    plot = await Plot.filter(field_id=plan.field_id).first()
    _customer, sub = await subscriber_of(plan, plot)
    client.cookies.clear()
    picture = await client.get(f"/cooperatives/{coop.id}/picture")  # public
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert picture.headers["cache-control"] == "public, max-age=86400"  # shared caches too
    assert f'src="/cooperatives/{coop.id}/picture"' in (await client.get(f"/plans/{plan.id}")).text
    await log_in_client(client, "wang@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/plot")
    assert f'src="/cooperatives/{coop.id}/picture/thumb"' in page.text
    # Replaced: the old files go.
    token = await log_in_client(client, manager.email)
    assert (await upload(client, token, png(400, 300))).status_code == 303
    new = (await Cooperative.get(id=coop.id)).picture
    assert new != coop.picture and not (photos / f"{coop.picture}.jpg").exists()


async def test_a_file_that_is_not_a_photo_is_refused_and_changes_nothing(client, app):
    plan, manager, token = await coop_with_manager(client)
    for bad in (b"not a photo at all", b""):
        r = await upload(client, token, bad)
        assert r.status_code == 422 and 'id="picture-error"' in r.text
    assert (await Cooperative.get(id=manager.cooperative_id)).picture == ""
    assert (await client.get(f"/cooperatives/{manager.cooperative_id}/picture")).status_code == 404


async def test_only_an_admin_or_the_cooperatives_own_manager_changes_its_picture(client, app):
    plan, manager, token = await coop_with_manager(client)
    other = await Cooperative.create(name="别的合作社")
    await sign_up(email="x@other.cn", name="X", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    token = await log_in_client(client, "x@other.cn")
    r = await upload(client, token, png(), f"/admin/cooperatives/{manager.cooperative_id}/picture")
    assert r.status_code == 404
    assert (await upload(client, token, png())).status_code == 303  # their own, at most
    assert (await Cooperative.get(id=manager.cooperative_id)).picture == ""

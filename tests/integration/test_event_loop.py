"""CPU-heavy work runs in worker threads: while 20 customers log in (argon2, tens of ms of CPU
each) and a manager uploads a large photo (decoded, re-encoded, shrunk), the event loop keeps
answering everyone else. Put either back on the loop and /healthz waits for it."""

import asyncio
import io
import threading
import time
from datetime import date

import httpx
from PIL import Image

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.fieldwork.models import Photo
from farm.fieldwork.photos import check_photo
from tests.support import csrf_of, log_in_client, make_season

LOGINS = 20
HEALTHZ_LIMIT_S = 0.100  # what nine answers in ten must meet, on a quiet machine
# What none may pass: a fraction of one photo check measured in the same run, so that a photo
# checked on the loop (which stalls it for a whole check) fails whatever the machine's load.
CEILING_SHARE_OF_A_CHECK = 0.7
TRIES = 3
QUIET_CHECK_S = 0.35  # one check of large_photo() on a quiet machine of this kind


def large_photo() -> bytes:
    """A 12-megapixel camera photo (2.7 MB; about half a second of Pillow's CPU to check)."""
    noise = Image.effect_noise((4000, 3000), 10).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


async def test_healthz_answers_within_100_ms_while_20_logins_and_a_photo_upload_run(app):
    today = date.today()
    plan = await make_season(
        starts_on=date(today.year - 1, 1, 1), ends_on=date(today.year + 2, 1, 1),
        sale_starts_on=date(today.year - 1, 1, 1), sale_ends_on=date(today.year + 2, 1, 1),
    )  # fmt: skip
    await plan.fetch_related("field")
    first = await sign_up(email="c0@example.com", name="顾客", password="correct horse",
                          language="zh_CN")  # fmt: skip
    for i in range(1, LOGINS):  # one real hash, shared: hashing 20 here would only be slow
        await User.create(email=f"c{i}@example.com", name="顾客", password_hash=first.password_hash)
    await sign_up(email="li@coop.cn", name="李经理", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=plan.field.cooperative_id)  # fmt: skip
    photo = large_photo()
    started = time.perf_counter()
    await asyncio.to_thread(check_photo, photo)
    check_s = time.perf_counter() - started
    # A busy machine slows everything alike: the bounds grow with it, never shrink.
    slower = max(1.0, check_s / QUIET_CHECK_S)

    def new_client() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    async def attempt() -> tuple[list[int], list[float]]:
        """The 20 logins and the upload at once, /healthz asked all along: the answers and
        the latencies."""
        clients = [new_client() for _ in range(LOGINS + 2)]
        manager, probe, buyers = clients[0], clients[1], clients[2:]
        try:
            manager_token = await log_in_client(manager, "li@coop.cn")
            tokens = [await csrf_of(c) for c in buyers]
            await probe.get("/healthz")
            loop = asyncio.get_running_loop()
            done = threading.Event()
            latencies: list[float] = []

            def watch() -> None:
                """Asks from outside the loop, as a load balancer would, so the time counted
                includes any wait for the loop to take the request."""
                while not done.is_set():
                    started = time.perf_counter()
                    answer = asyncio.run_coroutine_threadsafe(probe.get("/healthz"), loop)
                    assert answer.result(timeout=60).status_code == 200
                    latencies.append(time.perf_counter() - started)
                    time.sleep(0.005)

            async def log_in(i: int) -> int:
                data = {"email": f"c{i}@example.com", "password": "correct horse",
                        "csrf_token": tokens[i]}  # fmt: skip
                return (await buyers[i].post("/login", data=data)).status_code

            async def upload() -> int:
                response = await manager.post(
                    "/manage/log",
                    data={"field_id": plan.field_id, "whole_field": "1", "activity": "weeding",
                          "worked_on": today.isoformat(), "csrf_token": manager_token},
                    files=[("photos", ("field.jpg", photo, "image/jpeg"))],
                )  # fmt: skip
                return response.status_code

            watcher = threading.Thread(target=watch)
            watcher.start()
            await asyncio.sleep(0.02)
            statuses = await asyncio.gather(upload(), *(log_in(i) for i in range(LOGINS)))
            done.set()
            await asyncio.to_thread(watcher.join)
        finally:
            for c in clients:
                await c.aclose()
        return statuses, latencies

    # A timed test on a shared machine: one scheduling hiccup must not fail it, so the bound
    # is on nine answers in ten, with a ceiling that work put back on the loop passes at once;
    # and a moment of the machine's load that still passes it is given two more tries (work
    # on the loop stalls it on every try).
    ceiling = CEILING_SHARE_OF_A_CHECK * check_s
    load = f"(one photo check took {check_s * 1000:.0f} ms in this run)"
    tries: list[str] = []
    for n in range(1, TRIES + 1):
        statuses, latencies = await attempt()
        assert statuses == [303] * (LOGINS + 1)
        assert await Photo.all().count() == n
        assert len(latencies) >= 3
        ordered = sorted(latencies)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        if p90 < HEALTHZ_LIMIT_S * slower and ordered[-1] < ceiling:
            return
        tries.append(f"/healthz p90 {p90 * 1000:.0f} ms, slowest {ordered[-1] * 1000:.0f} ms")
    raise AssertionError(
        f"{'; '.join(tries)}: p90 above {HEALTHZ_LIMIT_S * slower * 1000:.0f} ms or slowest "
        f"above {ceiling * 1000:.0f} ms on every try {load}"
    )

"""The operator's tools: the `farm` command and the scheduler process."""

import asyncio
import os
import subprocess
import sys

from farm.accounts.models import Role, User
from farm.land.models import Cooperative, PlotClaim
from farm.partners.models import Partner, PartnerKind
from farm.subscriptions import services
from farm.subscriptions.models import Status
from tests.support import NOW, make_customer, make_season, settings_environ


def farm(settings, *args):
    env = {**os.environ, **settings_environ(settings), "FARM_NEW_USER_PASSWORD": "correct horse"}
    return subprocess.run(
        [sys.executable, "-m", "farm.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_farm_create_user_makes_a_manager_of_a_cooperative_and_partner_staff_of_a_partner(
    app, settings
):
    coop = await Cooperative.create(name="合作社")
    partner = await Partner.create(cooperative=coop, kind=PartnerKind.GUESTHOUSE, name="民宿")
    made = await asyncio.to_thread(
        farm,
        settings,
        "create-user",
        "--role",
        "manager",
        "--email",
        "li@coop.cn",
        "--name",
        "李",
        "--cooperative",
        str(coop.id),
    )
    assert made.returncode == 0, made.stderr
    staff = await asyncio.to_thread(
        farm,
        settings,
        "create-user",
        "--role",
        "partner_staff",
        "--email",
        "gate@stay.cn",
        "--name",
        "门",
        "--partner",
        str(partner.id),
    )
    assert staff.returncode == 0, staff.stderr
    manager = await User.get(email="li@coop.cn")
    assert manager.role == Role.MANAGER and manager.cooperative_id == coop.id
    assert (await User.get(email="gate@stay.cn")).partner_id == partner.id


async def test_farm_create_user_refuses_a_manager_without_a_real_cooperative(app, settings):
    bad = await asyncio.to_thread(
        farm,
        settings,
        "create-user",
        "--role",
        "manager",
        "--email",
        "x@coop.cn",
        "--name",
        "X",
        "--cooperative",
        "999",
    )
    assert bad.returncode != 0 and "999" in bad.stderr
    assert not await User.exists()


async def test_the_scheduler_catches_up_at_start_and_stops_cleanly(app, settings):
    """Started after a gap, the scheduler releases what lapsed while it was down."""
    plan = await make_season()
    sub = await services.reserve_plot(
        customer=await make_customer(),
        plan_id=plan.id,
        plot_id=None,
        today=NOW.date(),
        now=NOW,
        minutes=15,
    )
    # `python -m scheduler`, as operators run it; its reservation lapsed long before it started.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scheduler", env={**os.environ, **settings_environ(settings)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(100):
        await sub.refresh_from_db()
        if sub.status == Status.CANCELLED:
            break
        await asyncio.sleep(0.1)
    proc.terminate()
    output = (await proc.communicate())[0].decode()
    assert sub.status == Status.CANCELLED and sub.cancel_reason == "lapsed"
    assert not await PlotClaim.exists()
    assert "scheduler stopped" in output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_farm_dev_stopped_while_it_starts_leaves_no_stripe_emulator_behind(tmp_path):
    """A SIGTERM in `farm dev`'s first seconds (the emulator up, the demo being made) stops the
    emulator it started, as a SIGTERM to the running server does."""
    import signal

    web, stripe = _free_port(), _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FARM_")} | {
        "FARM_ENV": "development",
        "FARM_DATA_DIR": str(tmp_path),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "farm.cli", "dev", "--port", str(web), "--stripe-port", str(stripe),
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(300):
            if _answers(stripe):
                break
            await asyncio.sleep(0.1)
        assert _answers(stripe), "the emulator never started"
        assert not _answers(web)  # still starting: migrations and the demo come first
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
    for _ in range(50):
        if not _answers(stripe):
            break
        await asyncio.sleep(0.1)
    assert not _answers(stripe)

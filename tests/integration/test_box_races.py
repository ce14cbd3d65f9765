"""Two managers resolving one family's report at the same moment: one resolution stands, the
other is told it was resolved, and at most one refund is made. On PostgreSQL (SQLite
serialises writers, so it proves less there)."""

import asyncio

import pytest

from farm.errors import Conflict
from farm.payments.models import Refund
from farm.shipments.models import BoxReport
from tests.integration.test_box import a_box, manager_of, reported, resolving
from tests.integration.test_refunds_emulator import paid_by_card

pytestmark = pytest.mark.postgres


async def test_two_managers_resolving_one_report_at_once_one_wins(app, stripe_port):
    customer, sub, payment = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    report = await reported(app, customer, sub, shipment)
    first = await manager_of(sub, "li@coop.example")
    second = await manager_of(sub, "zhang@coop.example")
    results = await asyncio.gather(
        resolving(first, shipment, report, app, kind="refund", reply="退 20 元", refund="20"),
        resolving(second, shipment, report, app, kind="refund", reply="退 30 元", refund="30"),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, BoxReport)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], Conflict), results
    [refund] = await Refund.filter(payment_id=payment.id)
    assert refund.amount_fen == won[0].refund_fen
    await report.refresh_from_db()
    assert report.reply == won[0].reply and report.resolved_by_id == won[0].resolved_by_id

from datetime import UTC, datetime, timedelta

from farm.payments.polling import StripeReadGate

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_payment_is_read_from_stripe_at_most_once_per_interval_each_on_its_own_clock():
    gate = StripeReadGate(timedelta(seconds=20))
    assert gate.may_read(1, T) and gate.may_read(2, T + timedelta(seconds=5))
    assert not gate.may_read(1, T + timedelta(seconds=19))
    assert gate.may_read(1, T + timedelta(seconds=20))
    assert not gate.may_read(2, T + timedelta(seconds=24))
    assert gate.may_read(2, T + timedelta(seconds=25))


def test_an_interval_of_zero_always_reads():
    gate = StripeReadGate(timedelta(0))
    assert all(gate.may_read(1, T) for _ in range(3))


def test_past_its_size_the_gate_forgets_the_payments_read_longest_ago():
    gate = StripeReadGate(timedelta(seconds=20), size=2)
    for payment_id in (1, 2, 3):
        assert gate.may_read(payment_id, T)
    assert gate.may_read(1, T)  # forgotten: one early read, never a wrong answer
    assert not gate.may_read(3, T)

"""How often a waiting page may make us ask Stripe about one payment.

While a family looks at a WeChat Pay QR code (or waits for its bank), the page asks our server
every few seconds where the payment stands. Stripe's webhook normally answers first and
updates our own row, which every poll reads; asking Stripe too is only for a late webhook. At
a flash sale thousands of families wait at the same minute, and Stripe's live mode allows
about 100 reads a second: so each payment is read from Stripe at most once per interval, per
process, and in between the poll answers from our row."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta


class StripeReadGate:
    """Remembers when each payment was last read from Stripe (in this process; the oldest are
    forgotten past `size`, which costs at most one early read)."""

    def __init__(self, every: timedelta, *, size: int = 50_000) -> None:
        self.every = every
        self.size = size
        self._last: OrderedDict[int, datetime] = OrderedDict()

    def may_read(self, payment_id: int, now: datetime) -> bool:
        """True, and noted, if this payment was not read within the interval before `now`."""
        last = self._last.get(payment_id)
        if last is not None and now - last < self.every:
            return False
        self._last[payment_id] = now
        self._last.move_to_end(payment_id)
        while len(self._last) > self.size:
            self._last.popitem(last=False)
        return True

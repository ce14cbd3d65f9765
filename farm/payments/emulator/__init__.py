"""A Stripe emulator for development and tests: localstripe, corrected to behave like Stripe
for every call the service makes (each module says what it corrects and why).

Unlike `localstripe` itself, it listens on 127.0.0.1 only and keeps its state in memory (no
pickle in /tmp). Usage: python -m farm.payments.emulator [--port 8420]

Test helpers (not Stripe's API, all under the API base):
- GET  /_emulator/authorize/<pi>?client_secret=…   the page a redirect or WeChat QR code leads to
- POST /_emulator/payment_intents/<pi>/authorize   outcome=succeed|fail, answers JSON
- POST /_emulator/refunds/<re>/settle              status=succeeded|failed
- POST /_emulator/disputes/<dp>/close              status=won|lost
- POST /_emulator/charges/<ch>/age                 days=… (the payment happened that long ago)
- POST /_emulator/latency                          seconds=… (every API answer waits)
- POST /_emulator/idempotency                      honour=false (Idempotency-Key ignored)
Pending refunds also settle by themselves after FARM_EMULATOR_REFUND_SECONDS (default 3).
Alipay refunds are refused after 90 days, WeChat Pay refunds after 180 (charge_not_refundable).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping

import httpx

from farm.payments.gateway import EMULATOR_PORT


def serve(port: int) -> None:
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    from aiohttp import web
    from localstripe import resources

    from farm.payments.emulator.app import build_app

    # In memory only: never load or write /tmp/localstripe.pickle.
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build_app(), host="127.0.0.1", port=port, print=None, access_log=None)


def start_process(
    port: int = EMULATOR_PORT, *, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start the emulator in a child process and wait until it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "farm.payments.emulator", "--port", str(port)],
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the Stripe emulator exited with code {proc.returncode}")
            try:
                httpx.get(f"{base}/js.stripe.com/v3/", timeout=1)
                return proc
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the Stripe emulator did not start within 20 s")
    except BaseException:  # not started, or stopped (SIGTERM, Ctrl-C) while it started
        proc.terminate()
        proc.wait(timeout=10)
        raise


def register_webhook(*, port: int, url: str, secret: str, name: str = "farm") -> None:
    """Tell the emulator where to deliver signed events."""
    response = httpx.post(
        f"http://127.0.0.1:{port}/_config/webhooks/{name}",
        data={"url": url, "secret": secret},
        timeout=5,
    )
    response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=EMULATOR_PORT)
    args = parser.parse_args()
    serve(args.port)

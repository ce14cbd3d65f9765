"""The Stripe emulator as API version 2026-10-28.endive has it, until farm/payments/emulator
does so itself (then delete this module and start `farm.payments.emulator` again in
tests/conftest.py).

Since 2026-09-30.endive a PaymentIntent is limited to chosen methods with
`allowed_payment_method_types`; `payment_method_types` is refused with
`payment_method_types_no_longer_supported`. The emulator still models the older parameter
only, so here the newer one is read as the older one and the older one is refused.
Usage: python -m tests.endive_emulator --port N"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx


def patch() -> None:
    from farm.payments.emulator import app, intents
    from farm.payments.emulator.errors import invalid

    original = intents._offered_methods

    def offered_methods(params: Mapping[str, Any], currency: str):
        if "payment_method_types" in params:
            raise invalid(
                "The parameter payment_method_types is no longer supported on this API "
                "version. Use allowed_payment_method_types instead.",
                param="payment_method_types",
                code="payment_method_types_no_longer_supported",
            )
        params = dict(params)
        if "allowed_payment_method_types" in params:
            if "automatic_payment_methods" in params:
                raise invalid(
                    "You may only specify one of these parameters: automatic_payment_methods, "
                    "allowed_payment_method_types.",
                    param="allowed_payment_method_types",
                )
            params["payment_method_types"] = params.pop("allowed_payment_method_types")
        return original(params, currency)

    intents._offered_methods = offered_methods
    app.INTENT_CREATE_PARAMS = app.INTENT_CREATE_PARAMS | {"allowed_payment_method_types"}


def start_process(port: int) -> subprocess.Popen[bytes]:
    """Start it in a child process and wait until it answers (as the emulator's own)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.endive_emulator", "--port", str(port)],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Stripe emulator exited with code {proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/js.stripe.com/v3/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the Stripe emulator did not start within 20 s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    patch()
    from farm.payments.emulator import serve

    serve(parser.parse_args().port)

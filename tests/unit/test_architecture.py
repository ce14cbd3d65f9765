"""The layers written in pyproject.toml ([tool.importlinter]) hold: import-linter reads every
import of farm and scheduler, function-level ones included, and fails on one going upward or
between capabilities written as independent."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return contract["layers"]


def test_no_import_goes_up_a_layer_or_across_independent_capabilities():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_package_and_top_module_of_farm_has_a_layer():
    """A new capability or shared module must be placed in the layers, or the contract would
    not look at what it imports."""
    named = {
        name.strip()
        for layer in _layers()
        for part in layer.replace("|", ":").split(":")
        if (name := part.strip())
    }
    farm = ROOT / "farm"
    # farm.web (the routes' helpers) imports accounts.models and accounts.routes imports it:
    # no layer of its own, but every chain through it is still checked.
    unplaced = {"web", "migrations", "locale"}
    found = {p.name for p in farm.iterdir() if (p / "__init__.py").exists()}
    found |= {p.stem for p in farm.glob("*.py") if p.stem != "__init__"}
    missing = sorted(f"farm.{n}" for n in found - unplaced if f"farm.{n}" not in named)
    assert missing == []

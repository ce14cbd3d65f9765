"""Which of the duplicated blocks in farm/ at an earlier commit are still duplicated now.

    python bench/duplicates_since.py [--base e9a2bc2] [--list]

Needs the `duplicates` command (the team's tool library; it is not a Python package). The
whole tree's pair count grows with the code, so it cannot say whether a clean-up worked: this
follows the pairs `duplicates` listed at `--base` (by default the commit before issue 15's
first step, when its review counted them), outside migrations. For each pair it finds where
each side's lines stand now (the place in farm/ holding most of them together, the other
side elsewhere) and asks `duplicates` whether those two places still share a run of six
identical or same-shape lines. A side whose lines are no longer together was folded or
rewritten. It prints the figures, and with --list a line per pair."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^(D\d+) (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)(.*)$")
KEPT_TOGETHER = 0.6  # a side stands where at least this share of its lines is found together
MARGIN = 4  # lines read around a side's place now (a decorator, a def line)


@dataclass(frozen=True)
class Side:
    path: str
    first: int
    last: int


def duplicates(folder: Path) -> list[tuple[str, Side, Side, str]]:
    out = subprocess.run(
        ["duplicates", "--repo", str(folder), "--most", "200", "--seconds", "300"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pairs = []
    for line in out.splitlines():
        if m := ROW.match(line):
            d, fa, sa, ea, fb, sb, eb, rest = m.groups()
            pairs.append((d, Side(fa, int(sa), int(ea)), Side(fb, int(sb), int(eb)), rest))
    return pairs


def norm(line: str) -> str | None:
    s = " ".join(line.split())
    return s if s and not s.startswith("#") and s not in "()[]{}," else None


def places_now(side: Side, base: Path, now: dict[str, list[str]]) -> list[tuple[float, Side]]:
    """Where the side's lines stand now, the place holding most of them first."""
    lines = (base / side.path).read_text().splitlines()[side.first - 1 : side.last]
    want = {x for x in map(norm, lines) if x}
    if not want:  # comments and blank lines only: nothing to find
        return []
    span = side.last - side.first + 1
    found = []
    for path, text in now.items():
        normed = [norm(x) for x in text]
        for i, x in enumerate(normed):
            if x in want:
                got = len({y for y in normed[i : i + span + 3] if y} & want) / len(want)
                found.append((got, Side(path, i + 1, min(len(text), i + span + 3))))
    found.sort(key=lambda f: -f[0])
    return found


def overlaps(a: Side, b: Side) -> bool:
    return a.path == b.path and a.first <= b.last and b.first <= a.last


def still_alike(a: Side, b: Side, now: dict[str, list[str]]) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        for name, side in (("a.py", a), ("b.py", b)):
            text = now[side.path][max(0, side.first - 1 - MARGIN) : side.last + MARGIN]
            Path(folder, name).write_text("\n".join(text) + "\n")
        return any({x.path, y.path} == {"a.py", "b.py"} for _, x, y, _ in duplicates(Path(folder)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="e9a2bc2", help="the earlier commit")
    parser.add_argument("--list", action="store_true", help="a line per pair")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base, "farm"],
                                 capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        base = Path(tmp, "farm")
        then = [p for p in duplicates(base) if "migrations/" not in p[1].path + p[2].path]
        farm = ROOT / "farm"
        now = {
            str(p.relative_to(farm)): p.read_text().splitlines()
            for p in farm.rglob("*.py")
            if "migrations" not in p.parts
        }
        tally: dict[str, list[int]] = {}
        for d, a, b, rest in then:
            kind = (
                "boilerplate" if "boilerplate" in rest else "shape" if "shape" in rest else "same"
            )
            at_a = places_now(a, base, now)
            at_b = [
                f for f in places_now(b, base, now) if not (at_a and overlaps(f[1], at_a[0][1]))
            ]
            if not at_a or not at_b or min(at_a[0][0], at_b[0][0]) < KEPT_TOGETHER:
                verdict, kept = "gone: a side's lines are no longer together", False
            else:
                kept = still_alike(at_a[0][1], at_b[0][1], now)
                verdict = "still a pair" if kept else "gone: both stand, no longer alike"
            tally.setdefault(kind, [0, 0])[kept] += 1
            if args.list:
                where = f"  now {at_a[0][1].path}:{at_a[0][1].first} ~ " \
                        f"{at_b[0][1].path}:{at_b[0][1].first}" if kept else ""  # fmt: skip
                print(f"{d:5} {kind:11} {a.path}:{a.first}-{a.last} ~ "
                      f"{b.path}:{b.first}-{b.last} -> {verdict}{where}")  # fmt: skip
    print(f"pairs in farm/ outside migrations at {args.base}: {len(then)}")
    for kind, (gone, kept) in sorted(tally.items()):
        print(f"  {kind:11} {gone + kept:3}: {gone:3} gone, {kept:3} still a pair")
    gone = sum(g for g, _ in tally.values())
    real = [v for k, v in tally.items() if k != "boilerplate"]
    print(f"gone: {gone} of {len(then)} ({gone / max(len(then), 1):.0%}); not boilerplate: "
          f"{sum(g for g, _ in real)} of {sum(g + k for g, k in real)} "
          f"({sum(g for g, _ in real) / max(sum(g + k for g, k in real), 1):.0%})")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

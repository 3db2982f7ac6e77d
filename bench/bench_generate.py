"""How fast `olist generate` is, and whether its memory stays flat as the scale grows.

    python bench/bench_generate.py [--scale 0.1 --scale 1 --scale 10] [--repeat 3]

Each run is `olist generate` in a process of its own, started through `bench/launcher.py` so the
peak RSS is the generator's own. Reports the median wall time, the time per million rows written,
and the peak RSS per scale; targets from the issue: scale 1 in under 15 s, and linear growth (the
time per million rows at scale 10 within 25% of scale 1's) in bounded memory. The table is printed
and written to `bench/results/generate-<timestamp>.md` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench/results"
OLIST = REPO_ROOT / ".venv/bin/olist"
TARGET_SCALE_ONE_S = 15.0
LINEAR_SLACK = 1.25


@dataclass(frozen=True)
class Run:
    wall_s: float
    peak_rss_mb: float
    rows: int
    bytes: int


def generate_once(scale: float, workdir: Path) -> Run:
    out = workdir / f"sf{scale:g}"
    measured = workdir / "measured.json"
    command = [sys.executable, str(REPO_ROOT / "bench/launcher.py"), str(measured), "--"]
    command += [str(OLIST), "generate", "--sf", str(scale), "--out", str(out)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    result = json.loads(measured.read_text())
    if result["exit_code"] != 0:
        raise SystemExit(f"olist generate --sf {scale} failed with exit code {result['exit_code']}")
    files = list(out.iterdir())
    # Physical lines minus headers: close to records (a few reviews span two lines).
    rows = sum(path.read_bytes().count(b"\n") - 1 for path in files)
    return Run(
        wall_s=result["wall_s"],
        peak_rss_mb=result["peak_rss_kib"] / 1024,
        rows=rows,
        bytes=sum(path.stat().st_size for path in files),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, action="append", help="scale factor (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scale (median reported)")
    args = parser.parse_args()
    scales = args.scale or [0.1, 1.0, 10.0]

    lines = [
        "| scale | orders | rows written | size | median wall | s per M rows | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    per_million: dict[float, float] = {}
    wall: dict[float, float] = {}
    for scale in scales:
        with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
            runs = [generate_once(scale, Path(tmp)) for _ in range(args.repeat)]
        wall[scale] = statistics.median(r.wall_s for r in runs)
        per_million[scale] = wall[scale] / (runs[0].rows / 1e6)
        lines.append(
            f"| {scale:g} | {round(99_441 * scale):,} | {runs[0].rows:,} | "
            f"{runs[0].bytes / 1e6:,.0f} MB | {wall[scale]:.2f} s | {per_million[scale]:.2f} | "
            f"{max(r.peak_rss_mb for r in runs):,.0f} MB |"
        )
        print(lines[-1], flush=True)

    verdicts = []
    if 1.0 in wall:
        ok = wall[1.0] < TARGET_SCALE_ONE_S
        verdicts.append(
            f"scale 1 in {wall[1.0]:.2f} s (target < {TARGET_SCALE_ONE_S:g} s): "
            + ("pass" if ok else "MISS")
        )
    if 1.0 in per_million and 10.0 in per_million:
        ratio = per_million[10.0] / per_million[1.0]
        verdicts.append(
            f"time per row at scale 10 is {ratio:.2f}x scale 1's (linear if <= {LINEAR_SLACK}): "
            + ("pass" if ratio <= LINEAR_SLACK else "MISS")
        )
    report = "\n".join(["# olist generate", "", *lines, "", *(f"- {v}" for v in verdicts)])
    print("\n" + report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"generate-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

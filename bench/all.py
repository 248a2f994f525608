"""Every benchmark, one after another, and a markdown table of their figures.

Runs `bench/<name>.py [--quick]` for each benchmark in its own process (so one's servers and
threads don't disturb the next), reads the JSON result line each prints last, and writes the
table between the `<!-- bench:all -->` markers of docs/benchmarks.md (`--print` only prints
it). A benchmark that fails is listed as failed, with the end of what it printed; the others
still run.

    python bench/all.py [--quick] [--only gate,report] [--print]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import ROOT

BENCHES = [
    "telemetry",
    "ingest",
    "modbus",
    "bacnet",
    "rules",
    "ws",
    "gate",
    "canteen",
    "home",
    "report",
    "scale_out",
    "soak",
]
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:all -->", "<!-- /bench:all -->"


def run(name: str, quick: bool) -> tuple[dict[str, object] | None, float, str]:
    """The benchmark's result line (None if it failed), its run time, the end of its output."""
    t0 = time.perf_counter()
    cmd = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *(["--quick"] if quick else [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    took = time.perf_counter() - t0
    lines = proc.stdout.strip().splitlines()
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
    if proc.returncode != 0 or not lines:
        return None, took, tail
    try:
        return json.loads(lines[-1]), took, tail
    except json.JSONDecodeError:
        return None, took, tail


def fmt(x: object) -> str:
    """A figure as people read it."""
    if isinstance(x, float):
        return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.0f}"
    return str(x)


def latency_goal(r: dict[str, object]) -> bool:
    """Whether the benchmark states a p99 latency goal beside its ratio."""
    return "p99_ms" in r and "p99_goal_ms" in r


def met(r: dict[str, object]) -> bool:
    """The ratio at its goal, and the p99 under its goal where there is one."""
    ratio, goal = float(r["ratio"]), float(r["goal"])  # type: ignore[arg-type]
    ok = ratio <= goal if r.get("better") == "lower" else ratio >= goal
    if latency_goal(r):
        ok = ok and float(r["p99_ms"]) < float(r["p99_goal_ms"])  # type: ignore[arg-type]
    return ok


def table(rows: list[tuple[str, dict[str, object] | None, float, str]], quick: bool) -> str:
    """The markdown table: figure, baseline, ratio against goal, per benchmark."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"`python bench/all.py{' --quick' if quick else ''}` on {when} "
        "(each run measures its own baseline; ratio = figure / baseline).",
        "",
        "| bench | figure | unit | baseline | ratio | goal | p99 (goal) | met | run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r, took, tail in rows:
        if r is None:
            last = tail.splitlines()[-1] if tail else "no output"
            out.append(f"| {name} | failed: `{last[:80]}` | | | | | | ✗ | {took:.0f} s |")
            continue
        ratio, goal = float(r["ratio"]), float(r["goal"])  # type: ignore[arg-type]
        p99 = f"{float(r['p99_ms']):.1f} ms (< {r['p99_goal_ms']})" if latency_goal(r) else ""
        out.append(
            f"| {name} | {fmt(r['figure'])} | {r['unit']} | {fmt(r['baseline'])} | "
            f"**{ratio:.2f}** | {'≤' if r.get('better') == 'lower' else '≥'} {fmt(goal)} | {p99} | "
            f"{'✓' if met(r) else '✗'} | {took:.0f} s |"
        )
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="each benchmark's quick run")
    p.add_argument("--only", default="", help="comma-separated names (default: all)")
    p.add_argument("--print", action="store_true", help="print the table, don't write the doc")
    args = p.parse_args()
    names = [n for n in args.only.split(",") if n] or BENCHES
    rows = []
    for name in names:
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        r, took, tail = run(name, args.quick)
        print(f"[bench] {name}: {'ok' if r else 'FAILED'} in {took:.0f} s", file=sys.stderr)
        rows.append((name, r, took, tail))
    text = table(rows, args.quick)
    if not args.print:
        doc = DOC.read_text(encoding="utf-8")
        if START in doc and END in doc:
            head, rest = doc.split(START, 1)
            tail = rest.split(END, 1)[1]
            while tail.lstrip().startswith(END):  # a stray marker of an older run's write
                tail = tail.lstrip()[len(END) :]
            doc = head + START + "\n" + text + "\n" + END + tail
        else:
            doc = doc.rstrip() + f"\n\n## All benchmarks\n\n{START}\n{text}\n{END}\n"
        DOC.write_text(doc, encoding="utf-8")
        print(f"[bench] table written to {DOC.relative_to(ROOT)}", file=sys.stderr)
    print(text)
    count = sum(1 for _, r, _, _ in rows if r and met(r))
    print(
        json.dumps(
            {
                "bench": "all",
                "figure": count,
                "unit": "benchmarks meeting their goal",
                "baseline": len(rows),
                "ratio": round(count / len(rows), 3) if rows else 0.0,
                "goal": 1.0,
                "failed": [n for n, r, _, _ in rows if r is None],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()

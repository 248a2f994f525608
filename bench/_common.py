"""Helpers shared by the benchmarks: argument parsing, timing, the result line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parse(description: str) -> argparse.Namespace:
    """`--quick` finishes within a minute."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a smaller run (under a minute)")
    return p.parse_args()


def result(
    bench: str, figure: float, unit: str, baseline: float, goal: float, **extra: object
) -> None:
    """Print the one-line JSON result (the last line of every benchmark's output)."""
    ratio = figure / baseline if baseline else 0.0
    print(
        json.dumps(
            {
                "bench": bench,
                "figure": round(figure, 3),
                "unit": unit,
                "baseline": round(baseline, 3),
                "ratio": round(ratio, 3),
                "goal": goal,
                **extra,
            },
            ensure_ascii=False,
        )
    )


def serve(app: Any, port_q: Any, *payload: Any) -> None:
    """Serve `app` under uvicorn on a free loopback port (in a benchmark's server process);
    put `(port, *payload)` on `port_q` once it listens."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        port_q.put((server.servers[0].sockets[0].getsockname()[1], *payload))
        await task

    asyncio.run(main())

#!/usr/bin/env python3
"""Baseline for agent-bench: a Python asyncio scheduler doing the same work as the Swift one.

N no-op tasks, at most WORKERS running at once (an asyncio.Semaphore), every outcome collected.
Prints one JSON object: {"<N>": median microseconds per task over the repeats, ...}.
"""
import argparse
import asyncio
import json
import statistics
import time


async def run_batch(n: int, workers: int) -> float:
    sem = asyncio.Semaphore(workers)

    async def noop_task() -> str:
        async with sem:
            return "ok"

    start = time.perf_counter()
    results = await asyncio.gather(*(noop_task() for _ in range(n)))
    elapsed = time.perf_counter() - start  # the check below is outside the timed part, as in agent-bench
    assert len(results) == n and all(r == "ok" for r in results)
    return elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    out = {}
    for n in (int(s) for s in args.sizes.split(",")):
        samples = [asyncio.run(run_batch(n, args.workers)) for _ in range(args.repeats)]
        out[str(n)] = statistics.median(samples)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

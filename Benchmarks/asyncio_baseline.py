#!/usr/bin/env python3
"""Baselines for agent-bench's overhead section: Python asyncio doing the work of the Swift scheduler.

N no-op tasks, at most WORKERS running at once, every outcome collected and checked. Two designs:

- "priority_queue": the Python service's own shape, and the fastest simple one: an
  asyncio.PriorityQueue of (priority, arrival, coroutine function, future) served by WORKERS worker
  coroutines; submitting a task creates its future and puts it on the queue; the submitter awaits
  each future in submission order.
- "semaphore": one coroutine per task inside an asyncio.Semaphore(WORKERS), all gathered (a second,
  slower design, kept for comparison).

Prints one JSON object: {"priority_queue": {"<N>": median µs per task, ...}, "semaphore": {...}}.
"""
import argparse
import asyncio
import json
import statistics
import time


async def noop() -> str:
    return "ok"


async def priority_queue_batch(n: int, workers: int) -> float:
    loop = asyncio.get_running_loop()
    queue: asyncio.PriorityQueue = asyncio.PriorityQueue()

    async def worker() -> None:
        while True:
            _, _, body, future = await queue.get()
            try:
                future.set_result(await body())
            except Exception as error:  # a body that throws fails its own task only
                future.set_exception(error)

    pool = [asyncio.create_task(worker()) for _ in range(workers)]
    start = time.perf_counter()
    futures = []
    for arrival in range(n):
        future = loop.create_future()
        queue.put_nowait((0, arrival, noop, future))
        futures.append(future)
    results = [await future for future in futures]
    elapsed = time.perf_counter() - start  # the checks below are outside the timed part, as in agent-bench
    for task in pool:
        task.cancel()
    await asyncio.gather(*pool, return_exceptions=True)
    assert len(results) == n and all(r == "ok" for r in results)
    return elapsed / n * 1e6


async def semaphore_batch(n: int, workers: int) -> float:
    sem = asyncio.Semaphore(workers)

    async def task() -> str:
        async with sem:
            return await noop()

    start = time.perf_counter()
    results = await asyncio.gather(*(task() for _ in range(n)))
    elapsed = time.perf_counter() - start
    assert len(results) == n and all(r == "ok" for r in results)
    return elapsed / n * 1e6


DESIGNS = {"priority_queue": priority_queue_batch, "semaphore": semaphore_batch}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--designs", default=",".join(DESIGNS))
    args = parser.parse_args()
    out = {}
    for design in args.designs.split(","):
        batch = DESIGNS[design]
        out[design] = {}
        for n in (int(s) for s in args.sizes.split(",")):
            samples = [asyncio.run(batch(n, args.workers)) for _ in range(args.repeats)]
            out[design][str(n)] = statistics.median(samples)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The baseline of agent-bench's serve section: the original task service's design, reproduced.

FastAPI on uvicorn, an asyncio.PriorityQueue of (priority, arrival, task id) served by WORKERS worker
coroutines, tasks kept in a dict; the same endpoints and field names as the original
(POST /tasks -> {task_id, status, message}; GET /tasks/{task_id}; GET /tasks?limit=; GET /stats).
A task of type "tool" with payload {"tool": "now"} runs a no-op (the current time), like the
builtin `now` the Swift server runs for the same request.

Usage: original_service.py --port PORT [--workers 8]
"""
import argparse
import asyncio
import datetime
import itertools
import time
import uuid
from typing import Any, Dict, Optional

import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI()
tasks: Dict[str, Dict[str, Any]] = {}
queue: "asyncio.PriorityQueue" = None  # made on start-up, inside uvicorn's loop
arrivals = itertools.count()
WORKERS = 8


class TaskCreate(BaseModel):
    name: str
    payload: Dict[str, Any] = {}
    priority: int = 1
    task_type: str = "function_call"
    estimated_time: Optional[float] = None


async def run(task: Dict[str, Any]) -> None:
    task["status"] = "running"
    task["started_at"] = time.time()
    task["result"] = datetime.datetime.now().isoformat()
    task["status"] = "completed"
    task["completed_at"] = time.time()


async def worker() -> None:
    while True:
        _, _, task_id = await queue.get()
        await run(tasks[task_id])
        queue.task_done()


@app.on_event("startup")
async def start() -> None:
    global queue
    queue = asyncio.PriorityQueue()
    for _ in range(WORKERS):
        asyncio.create_task(worker())


@app.post("/tasks")
async def submit(body: TaskCreate) -> Dict[str, Any]:
    task_id = str(uuid.uuid4())
    tasks[task_id] = {
        "id": task_id, "name": body.name, "priority": body.priority, "status": "queued", "task_type": body.task_type,
        "created_at": time.time(), "started_at": None, "completed_at": None, "estimated_time": body.estimated_time,
        "result": None, "error": None,
    }
    await queue.put((body.priority, next(arrivals), task_id))
    return {"task_id": task_id, "status": "queued", "message": "queued"}


@app.get("/tasks/{task_id}")
async def get_task(task_id: str) -> Dict[str, Any]:
    task = tasks.get(task_id)
    if task is None:
        raise HTTPException(status_code=404, detail="not found")
    return task


@app.get("/tasks")
async def list_tasks(limit: int = 10) -> Any:
    return sorted(tasks.values(), key=lambda t: t["created_at"], reverse=True)[:limit]


@app.get("/healthz")
async def healthz() -> Dict[str, Any]:
    # Not in the original: a route that does nothing, the benchmark's measure of the server's ceiling.
    return {"status": "ok"}


@app.get("/stats")
async def stats() -> Dict[str, Any]:
    ended = [t for t in tasks.values() if t["completed_at"] is not None]
    waits = [t["started_at"] - t["created_at"] for t in ended]
    runs = [t["completed_at"] - t["started_at"] for t in ended]
    return {
        "total": len(tasks), "completed": sum(1 for t in ended if t["status"] == "completed"),
        "failed": sum(1 for t in ended if t["status"] == "failed"),
        "avg_wait_time": sum(waits) / len(waits) if waits else 0, "avg_execution_time": sum(runs) / len(runs) if runs else 0,
        "queued_tasks": queue.qsize(), "running_tasks": sum(1 for t in tasks.values() if t["status"] == "running"),
        "strategy": "priority_based",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    WORKERS = args.workers
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)

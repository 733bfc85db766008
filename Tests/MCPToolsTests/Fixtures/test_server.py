"""A FastMCP server for MCPToolsTests: python test_server.py stdio | http PORT.

LOG (environment) names a file where calls append lines: "start LABEL", "end LABEL", "cancelled LABEL".
"""
import asyncio
import os
import sys
import time

from mcp.server.fastmcp import Context, FastMCP

port = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
mcp = FastMCP("fixture", host="127.0.0.1", port=port)
LOG = os.environ.get("LOG", "/dev/null")


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


@mcp.tool()
def echo(text: str) -> str:
    """Returns its text."""
    return "echo: " + text


@mcp.tool()
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError("failed on purpose: " + reason)


@mcp.tool()
async def slow(steps: int, delay: float, ctx: Context) -> str:
    """Reports progress every delay seconds, steps times."""
    for i in range(steps):
        await asyncio.sleep(delay)
        await ctx.report_progress(i + 1, steps)
    return f"slow done after {steps} steps"


@mcp.tool()
async def hold(label: str, seconds: float) -> str:
    """Sleeps; logs its start and end, or that it was cancelled."""
    log(f"start {label}")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        log(f"cancelled {label}")
        raise
    log(f"end {label}")
    return f"held {label}"


@mcp.tool()
def crash() -> str:
    """Exits the server process mid-call."""
    log("crash")
    os._exit(3)


@mcp.tool()
def flood(megabytes: int) -> str:
    """Writes one line of MEGABYTES MiB straight to stdout (a hostile server)."""
    data = b"x" * (megabytes << 20) + b"\n"
    while data:
        data = data[os.write(1, data):]
    return "flooded"


@mcp.tool()
async def shout(megabytes: int, ctx: Context) -> str:
    """Sends a log message of MEGABYTES MiB unasked: on the GET stream over HTTP (a hostile server)."""
    await ctx.session.send_log_message("info", "x" * (megabytes << 20))
    return "shouted"


@mcp.tool()
async def grow(ctx: Context) -> str:
    """Adds the tool 'extra' and tells the client its list changed."""
    def extra() -> str:
        """Added later."""
        return "extra here"
    mcp.add_tool(extra)
    await ctx.session.send_tool_list_changed()
    return "grown"


mcp.run(transport="stdio" if sys.argv[1] == "stdio" else "streamable-http")

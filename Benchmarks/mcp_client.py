"""The baseline of the MCP section: the Python SDK's own client calling `echo` on the same server.

python mcp_client.py SERVER_PYTHON SERVER_SCRIPT CALLS WARMUPS -> {"ms": [per-call milliseconds]}
"""
import asyncio
import json
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main():
    python, script, calls, warmups = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    params = StdioServerParameters(command=python, args=[script, "stdio"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            times = []
            for i in range(warmups + calls):
                start = time.perf_counter()
                result = await session.call_tool("echo", {"text": f"call {i}"})
                elapsed = (time.perf_counter() - start) * 1000
                assert result.content[0].text == f"echo: call {i}", result
                if i >= warmups:
                    times.append(elapsed)
    print(json.dumps({"ms": times}))


asyncio.run(main())

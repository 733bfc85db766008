"""A hostile MCP server over stdio: it answers initialize and tools/list, and at the first tools/call
stops reading its input for good (its stdin pipe fills up)."""
import json
import sys
import time

for line in sys.stdin:
    message = json.loads(line)
    method = message.get("method")
    if method == "initialize":
        result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                  "serverInfo": {"name": "deaf", "version": "0"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "stop_reading", "description": "stops reading", "inputSchema": {"type": "object"}}]}
    elif method == "tools/call":
        time.sleep(3600)
        continue
    else:
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)

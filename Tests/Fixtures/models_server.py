#!/usr/bin/env python3
"""A loopback server that answers GET /v1/models as told: the local-server probe's tests.

Usage: models_server.py [--status N] [--body TEXT] [--repeat K] [--delay SECONDS] --log EVENTS.jsonl
Prints "PORT <n>" on its first stdout line, then serves until killed. GET /v1/models waits --delay
seconds, then answers --status (default 200) with --body repeated --repeat times (default: a list with
the model "local-model"); any other path is 404. Every request is logged as {"path": ..., "time": ...}.
"""
import argparse, http.server, json, threading, time

parser = argparse.ArgumentParser()
parser.add_argument("--status", type=int, default=200)
parser.add_argument("--body", default=json.dumps({"object": "list", "data": [{"id": "local-model", "object": "model"}]}))
parser.add_argument("--repeat", type=int, default=1)
parser.add_argument("--delay", type=float, default=0)
parser.add_argument("--log", required=True)
args = parser.parse_args()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"path": self.path, "time": time.time()}) + "\n")
        if self.path != "/v1/models":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        time.sleep(args.delay)
        data = (args.body * args.repeat).encode()
        try:
            self.send_response(args.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT", server.server_address[1], flush=True)
server.serve_forever()

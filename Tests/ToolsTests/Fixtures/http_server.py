#!/usr/bin/env python3
"""Loopback HTTP server for the http executor tests. Prints its port on the first line.

/echo...       200, a JSON object with method, path, headers and body of the request
/status/N      answers status N with body "status N"
/big           2 MiB of 'b'
/slow          waits 60 s before answering (for cancellation)
"""
import http.server, json, sys, time, threading

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2])
            self.reply(code, f"status {code}".encode())
        elif self.path == "/big":
            self.reply(200, b"b" * (2 * 1024 * 1024))
        elif self.path == "/slow":
            time.sleep(60)
            self.reply(200, b"late")
        else:
            data = {"method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            self.reply(200, json.dumps(data).encode())

    def reply(self, code, payload):
        self.send_response(code)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
server.serve_forever()

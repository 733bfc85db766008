#!/usr/bin/env python3
"""Loopback HTTP server for the transport and http-tool tests.

Usage: http_server.py --log EVENTS.jsonl
Prints "PORT <n>" on its first stdout line, then serves until killed.

/echo...             200, a JSON object with method, path, headers and body of the request
/status/N            answers status N with body "status N"
/big                 2 MiB of 'b'
/redirect?to=URL&status=N
                     answers N (default 302) with Location: URL
/loop/N              302 to /loop/N+1, forever
/bytes/N             N bytes of 'b' in 64 KiB writes; logs how many were sent and whether the client hung up
/slow?seconds=S      sends nothing for S seconds (default 30), then answers "late"; a client that hangs up
                     earlier is logged as a disconnect
/drip?interval_ms=I&count=C
                     200 at once, then C chunks "chunk K\n" I ms apart (defaults 500, 60), every chunk
                     logged; a client that hangs up between chunks is logged as a disconnect

Every request is logged as {"event": "request", "path", "time"}; a hang-up as {"event": "disconnect", ...},
an answer sent in full as {"event": "served", ...}. Times are Unix seconds (time.time()).
"""
import argparse, http.server, json, select, signal, threading, time
from urllib.parse import urlsplit, parse_qs

lock = threading.Lock()
log_path = None


def log(event, path, **fields):
    with lock, open(log_path, "a") as f:
        f.write(json.dumps({"event": event, "path": path, "time": time.time(), **fields}) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        log("request", self.path, method=self.command)
        if url.path.startswith("/status/"):
            code = int(url.path.split("/")[2])
            self.reply(code, f"status {code}".encode())
        elif url.path == "/redirect":
            self.redirect(int(query.get("status", 302)), query.get("to", "/echo"))
        elif url.path.startswith("/loop/"):
            self.redirect(302, "/loop/%d" % (int(url.path.split("/")[2]) + 1))
        elif url.path == "/big":
            self.reply(200, b"b" * (2 * 1024 * 1024))
        elif url.path.startswith("/bytes/"):
            self.send_bytes(int(url.path.split("/")[2]))
        elif url.path == "/slow":
            if self.client_hung_up_within(float(query.get("seconds", 30))):
                log("disconnect", self.path)
            else:
                self.reply(200, b"late")
        elif url.path == "/drip":
            self.drip(float(query.get("interval_ms", 500)) / 1000, int(query.get("count", 60)))
        else:
            data = {"method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            self.reply(200, json.dumps(data).encode())

    def client_hung_up_within(self, seconds):
        """Waits up to `seconds`; True as soon as the client closes its end (recv returns b"")."""
        deadline = time.time() + seconds
        while (left := deadline - time.time()) > 0:
            readable, _, _ = select.select([self.connection], [], [], left)
            if readable:
                try:
                    if not self.connection.recv(1024):
                        return True
                except OSError:
                    return True
        return False

    def reply(self, code, payload):
        self.send_response(code)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
            log("served", self.path)
        except (BrokenPipeError, ConnectionResetError):
            log("disconnect", self.path)

    def redirect(self, code, location):
        self.send_response(code)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()
        log("served", self.path)

    def send_bytes(self, total):
        self.send_response(200)
        self.send_header("Content-Length", str(total))
        self.end_headers()
        piece = b"b" * 65536
        sent = 0
        try:
            while sent < total:
                n = min(len(piece), total - sent)
                self.wfile.write(piece[:n])
                sent += n
            self.wfile.flush()
            log("served", self.path, sent=sent)
        except (BrokenPipeError, ConnectionResetError):
            log("disconnect", self.path, sent=sent)

    def drip(self, interval, count):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()  # HTTP/1.0 without Content-Length: the body ends when the connection closes
        self.wfile.flush()
        for k in range(1, count + 1):
            log("chunk", self.path, index=k)  # logged before it is sent: its time is never after the client has it
            try:
                self.wfile.write(b"chunk %d\n" % k)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                log("disconnect", self.path, chunks=k - 1)
                return
            if self.client_hung_up_within(interval):
                log("disconnect", self.path, chunks=k)
                return
        log("served", self.path, chunks=count)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def main():
    global log_path
    # A parent may have spawned us with signals blocked (Swift test runners do).
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    log_path = ap.parse_args().log
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

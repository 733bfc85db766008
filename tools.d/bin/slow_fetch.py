#!/usr/bin/env python3
"""slow_fetch: {"url": ...} on stdin -> fake page content after ~1 s (set SLOW_FETCH_SECONDS to change)."""
import hashlib, json, os, sys, time

args = json.load(sys.stdin)
url = args["url"]
time.sleep(float(os.environ.get("SLOW_FETCH_SECONDS", "1.0")))
digest = hashlib.sha256(url.encode()).hexdigest()[:12]
print(f"<html><head><title>Page {digest}</title></head>")
print(f"<body><p>Offline stand-in content for {url} (id {digest}).</p></body></html>")

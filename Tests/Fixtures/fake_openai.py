#!/usr/bin/env python3
"""A scripted OpenAI-compatible Chat Completions server on 127.0.0.1, for tests only.

Usage: fake_openai.py --script SCRIPT.json [--log REQUESTS.jsonl]
Prints "PORT <n>" on its first stdout line, then serves until killed.

SCRIPT.json is a list of responses, one consumed per POST .../chat/completions, in order;
the last one repeats when the list runs out. Each response is one of:
  {"text": "Hello", "chunk_delay_ms": 0, "pieces": 3}   streamed text, split into deltas
  {"tool_calls": [{"name": "n", "arguments": {...}}, ...]}  streamed parallel tool calls,
      arguments split across chunks; "repeat_id_and_name": true repeats them in every fragment;
      "arg_pieces": n splits each call's arguments into n fragments (default 2), one event each;
      "first_token_ms": t waits t ms after the headers before the first event, "token_ms": d waits d ms
      before each later event up to the finish_reason chunk (usage and [DONE] follow at once);
      "log_calls": true logs
      {"event": "call_complete", "index", "id", "mono"} (time.monotonic(), CLOCK_MONOTONIC, read just
      before writing) for the event that makes call `index` complete for a client (the next call's first fragment,
      or the finish_reason chunk for the last), and {"event": "arguments_end", ...} after its last
      argument fragment; "wait_for_file": {"path", "after_call_starts": k, "timeout": s} stops after
      writing call k's first fragment (call k-1 is then complete) until the file exists or s seconds
      passed, logging {"event": "waited_for_file", "found": bool}, then goes on, or with
      "then": "close" drops the connection there (a stream that breaks)
  {"sse": ["raw event text", ...], "chunk_delay_ms": 0}  raw SSE bytes, written as given
  {"status": 429, "headers": {"Retry-After": "1"}, "body": {...}}  an error answer
  {"hang": true, "hang_seconds": 60}                    headers sent, then silence; when the
      client hangs up, the log gets {"event": "disconnect", "path": ..., "time": ...}; after
      hang_seconds (default: never) the answer ends with [DONE] and the log gets "hang_ended"
  {"close": true}                                       the connection closed at once
  A text or tool-call response may carry "usage": the usage object sent in the stream's last chunk
  (and in a whole answer), details included as given; null sends none. Without it the usage is
  {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}.
  {"rule": "burn", "tool": "cpu_burn", "text": "Done."}  answers by rule, not in order (agent-bench's
      product section; put it alone in the script so that it repeats): a request whose last message
      is the user's "burn N" gets ONE streamed call of "tool" with {"seconds": N} (id burn_<k>, unique
      per server), and the log gets {"event": "tool_call_sent", "id", "seconds", "time"} once the
      answer's last byte is written; a request whose last message is a tool result gets the text
      streamed, and the log gets {"event": "tool_result", "id", "content", "time"} on its arrival
  {"empty": true, "content_type": "text/event-stream"}  200 with an empty body (what llama-cpp-python
      answers a streaming request that offers tools)
  {"raw_body": "text", "repeat": 1, "content_type": "application/json"}  200 with this body, written
      `repeat` times (content_type defaults to text/event-stream here and for "empty")
A non-streaming request ("stream": false) gets the same content as one JSON body; so does a
streaming one when the response has "json_body": true (as some servers answer).

POST .../responses speaks the Responses API with the same script. A "text" and/or "tool_calls"
response (optionally with "reasoning": {"encrypted_content": "...", "summary": [...]}, which comes
first) becomes the output items reasoning, message, function calls, streamed as response.created,
then per item response.output_item.added, its deltas (text in "pieces" deltas, each call's arguments
in three response.function_call_arguments.delta events) and .done, response.output_item.done, and
response.completed with the whole response (output and usage; "usage" in the response replaces the
default). "drop_completed": true leaves response.completed out (a cut stream). Each event is written
as "event: TYPE" + "data: JSON". A non-streaming request gets the response object as one JSON body.
Every request is appended to the log as one JSON line: method, path, headers, body.
"""
import argparse, json, os, re, select, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"script": [], "next": 0, "log": None, "calls": 0}


def next_response():
    with lock:
        script = state["script"]
        i = min(state["next"], len(script) - 1)
        state["next"] += 1
        return script[i]


def chunk(delta, finish=None, index=0):
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake-model",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}


def split(text, n):
    """`text` cut into n pieces of about equal length (fewer when it is shorter)."""
    n = max(1, min(n, len(text)))
    return [text[len(text) * k // n:len(text) * (k + 1) // n] for k in range(n)]


def events_for(resp, marks=None):
    """The SSE data payloads for a scripted text or tool-call response. For tool calls, `marks` (a
    dict) gets, per payload position, what writing that payload means: ("starts", i) for call i's first
    fragment, ("args_end", i) for its last argument fragment, ("finish", None) for the finish chunk."""
    out = []
    marks = {} if marks is None else marks
    if "text" in resp:
        text = resp["text"]
        pieces = max(1, int(resp.get("pieces", 3)))
        size = max(1, -(-len(text) // pieces))
        out.append(chunk({"role": "assistant", "content": ""}))
        for k in range(0, len(text), size):
            out.append(chunk({"content": text[k:k + size]}))
        out.append(chunk({}, "stop"))
    else:
        calls = resp["tool_calls"]
        repeat = resp.get("repeat_id_and_name", False)
        out.append(chunk({"role": "assistant", "content": None}))
        for i, call in enumerate(calls):
            cid = call.get("id", "call_%d" % i)
            args = json.dumps(call.get("arguments", {}))
            if "arg_pieces" in resp:
                parts = split(args, int(resp["arg_pieces"]))
            else:
                half = len(args) // 2
                parts = [args[:half], args[half:]]
            first = {"index": i, "id": cid, "type": "function", "function": {"name": call["name"], "arguments": ""}}
            marks[len(out)] = ("starts", i)
            out.append(chunk({"tool_calls": [first]}))
            for part in parts:
                frag = {"index": i, "function": {"arguments": part}}
                if repeat:
                    frag.update({"id": cid, "type": "function"})
                    frag["function"]["name"] = call["name"]
                out.append(chunk({"tool_calls": [frag]}))
            marks[len(out) - 1] = ("args_end", i)
        marks[len(out)] = ("finish", None)
        out.append(chunk({}, "tool_calls"))
    usage = usage_of(resp)
    if usage is not None:
        out.append({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [], "usage": usage})
    return out


def usage_of(resp):
    """The usage object a text or tool-call response reports, or None for none."""
    return resp.get("usage", {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})


BURN = re.compile(r"^\s*burn\s+([0-9]+(?:\.[0-9]+)?)\s*$")


def by_rule(resp, body):
    """The concrete response a {"rule": "burn"} entry gives for this request body, and what to log:
    (response, event logged on arrival or None, event logged after the answer is sent or None)."""
    messages = body.get("messages", []) if isinstance(body, dict) else []
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        arrived = {"event": "tool_result", "id": last.get("tool_call_id"), "content": last.get("content"),
                   "time": time.time()}
        return {"text": resp.get("text", "Done.")}, arrived, None
    match = BURN.match(last.get("content") or "") if last.get("role") == "user" else None
    if not match:
        return {"status": 400, "body": {"error": {"message": "the burn rule wants 'burn N' or a tool result"}}}, None, None
    with lock:
        state["calls"] += 1
        cid = "burn_%d" % state["calls"]
    seconds = float(match.group(1))
    call = {"id": cid, "name": resp.get("tool", "cpu_burn"), "arguments": {"seconds": seconds}}
    return {"tool_calls": [call]}, None, {"event": "tool_call_sent", "id": cid, "seconds": seconds}


RESPONSES_USAGE = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 5,
                   "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 15}


def responses_items(resp):
    """The Responses API output items of a scripted response: reasoning, message, function calls."""
    items = []
    if "reasoning" in resp:
        r = resp["reasoning"]
        items.append({"type": "reasoning", "id": "rs_fake", "summary": r.get("summary", []),
                      "encrypted_content": r["encrypted_content"]})
    if "text" in resp:
        items.append({"type": "message", "id": "msg_fake", "status": "completed", "role": "assistant",
                      "content": [{"type": "output_text", "text": resp["text"], "annotations": []}]})
    for i, call in enumerate(resp.get("tool_calls", [])):
        items.append({"type": "function_call", "id": "fc_fake_%d" % i, "call_id": call.get("id", "call_%d" % i),
                      "name": call["name"], "arguments": json.dumps(call.get("arguments", {})), "status": "completed"})
    return items


def response_object(resp, items, status="completed"):
    return {"id": "resp_fake", "object": "response", "created_at": 0, "status": status, "model": "fake-model",
            "output": items, "usage": resp.get("usage", RESPONSES_USAGE) if status == "completed" else None,
            "error": None}


def responses_events(resp):
    """The Responses API stream events of a scripted text and/or tool-call response."""
    items = responses_items(resp)
    events = [{"type": "response.created", "response": response_object(resp, [], "in_progress")}]
    for index, item in enumerate(items):
        base = {"output_index": index, "item_id": item["id"]}
        if item["type"] == "message":
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": dict(item, status="in_progress", content=[])})
            text = item["content"][0]["text"]
            pieces = max(1, int(resp.get("pieces", 3)))
            size = max(1, -(-len(text) // pieces))
            for k in range(0, len(text), size):
                events.append(dict(base, type="response.output_text.delta", content_index=0, delta=text[k:k + size]))
            events.append(dict(base, type="response.output_text.done", content_index=0, text=text))
        elif item["type"] == "function_call":
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": dict(item, status="in_progress", arguments="")})
            args = item["arguments"]
            third = max(1, -(-len(args) // 3))
            for k in range(0, len(args), third):
                events.append(dict(base, type="response.function_call_arguments.delta", delta=args[k:k + third]))
            events.append(dict(base, type="response.function_call_arguments.done", arguments=args))
        else:
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {"type": item["type"], "id": item["id"], "summary": []}})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    if not resp.get("drop_completed"):
        events.append({"type": "response.completed", "response": response_object(resp, items)})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def log_event(event):
    if state["log"]:
        with lock, open(state["log"], "a") as f:
            f.write(json.dumps(event) + "\n")


def whole_body(resp):
    message = {"role": "assistant", "content": None}
    finish = "stop"
    if "text" in resp:
        message["content"] = resp["text"]
    else:
        finish = "tool_calls"
        message["tool_calls"] = [{"id": c.get("id", "call_%d" % i), "type": "function",
                                  "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))}}
                                 for i, c in enumerate(resp["tool_calls"])]
    body = {"id": "chatcmpl-fake", "object": "chat.completion", "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}]}
    usage = usage_of(resp)
    if usage is not None:
        body["usage"] = usage
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Small SSE writes must leave at once, as a real server's do (no Nagle + delayed-ACK stalls).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def handle(self):
        # A client that resets a kept-alive connection between requests (agent-repl exiting with idle
        # connections) is not an error worth a traceback on stderr.
        try:
            super().handle()
        except ConnectionResetError:
            pass

    def do_GET(self):
        self.send_json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        if state["log"]:
            with lock, open(state["log"], "a") as f:
                f.write(json.dumps({"method": "POST", "path": self.path, "headers": dict(self.headers),
                                    "body": body, "time": time.time()}) + "\n")
        resp = next_response()
        sent = None
        if resp.get("rule") == "burn":
            resp, arrived, sent = by_rule(resp, body)
            if arrived:
                log_event(arrived)
        if resp.get("close"):
            self.close_connection = True
            self.connection.close()
            return
        if "status" in resp:
            self.send_json(resp["status"], resp.get("body", {"error": {"message": "scripted error"}}),
                           resp.get("headers", {}))
            return
        if resp.get("empty") or "raw_body" in resp:
            data = (resp.get("raw_body", "") * int(resp.get("repeat", 1))).encode()
            self.send_response(200)
            self.send_header("Content-Type", resp.get("content_type", "text/event-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        streaming = isinstance(body, dict) and body.get("stream", False)
        responses = self.path.rstrip("/").endswith("/responses")
        if (not streaming or resp.get("json_body")) and "sse" not in resp and not resp.get("hang"):
            self.send_json(200, response_object(resp, responses_items(resp)) if responses else whole_body(resp))
            if sent:
                log_event(dict(sent, time=time.time()))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if resp.get("hang"):
            self.write_chunk(b": waiting\n\n")
            hung_up = self.wait_for_hang_up(resp.get("hang_seconds"))
            if state["log"]:
                with lock, open(state["log"], "a") as f:
                    event = "disconnect" if hung_up else "hang_ended"
                    f.write(json.dumps({"event": event, "path": self.path, "time": time.time()}) + "\n")
            if not hung_up:
                try:
                    self.write_chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except OSError:
                    pass
            self.close_connection = True
            return
        delay = resp.get("chunk_delay_ms", 0) / 1000.0
        marks = {}
        if "sse" in resp:
            pieces = [p.encode() for p in resp["sse"]]
        elif responses:
            pieces = [("event: %s\ndata: %s\n\n" % (e["type"], json.dumps(e))).encode() for e in responses_events(resp)]
        else:
            pieces = [("data: " + json.dumps(e) + "\n\n").encode() for e in events_for(resp, marks)]
            pieces.append(b"data: [DONE]\n\n")
        calls = resp.get("tool_calls", [])
        wait = resp.get("wait_for_file")
        token = resp.get("token_ms", 0) / 1000.0
        finish = next((n for n, m in marks.items() if m[0] == "finish"), len(pieces))
        try:
            if resp.get("first_token_ms"):
                time.sleep(resp["first_token_ms"] / 1000.0)
            for n, p in enumerate(pieces):
                if token and 0 < n <= finish:
                    time.sleep(token)
                # Stamped just before the write: a client may act on the bytes before this process
                # runs again after writing them, so a stamp taken after would flatter the client.
                before_write = time.monotonic()
                self.write_chunk(p)
                mark = marks.get(n)
                if mark and resp.get("log_calls"):
                    self.log_call_marks(mark, calls, before_write)
                if mark and wait and mark == ("starts", wait.get("after_call_starts", 1)):
                    if self.wait_for_file(wait) == "close":
                        return
                if delay:
                    time.sleep(delay)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        if sent:
            log_event(dict(sent, time=time.time()))

    def log_call_marks(self, mark, calls, now):
        """Logs what writing a marked payload (begun at `now`) means for the calls (see "log_calls")."""
        kind, i = mark
        if kind == "args_end":
            done = [("arguments_end", i)]
        elif kind == "starts":
            done = [("call_complete", i - 1)] if i > 0 else []
        else:
            done = [("call_complete", len(calls) - 1)] if calls else []
        for event, index in done:
            cid = calls[index].get("id", "call_%d" % index)
            log_event({"event": event, "index": index, "id": cid, "mono": now})

    def wait_for_file(self, wait):
        """Waits until wait["path"] exists or wait["timeout"] seconds passed; logs which. Returns
        "close" after closing the connection when wait["then"] says so."""
        deadline = time.monotonic() + float(wait.get("timeout", 30))
        while not os.path.exists(wait["path"]) and time.monotonic() < deadline:
            time.sleep(0.005)
        log_event({"event": "waited_for_file", "found": os.path.exists(wait["path"]), "mono": time.monotonic()})
        if wait.get("then") == "close":
            self.close_connection = True
            self.connection.shutdown(2)
            self.connection.close()
            return "close"
        return None

    def wait_for_hang_up(self, seconds):
        """Silence until the client hangs up (True) or `seconds` pass (False; None waits forever)."""
        deadline = None if seconds is None else time.time() + seconds
        while deadline is None or time.time() < deadline:
            left = None if deadline is None else max(0, deadline - time.time())
            readable, _, _ = select.select([self.connection], [], [], left)
            if readable:
                try:
                    if not self.connection.recv(1024):  # b"": the client closed the connection
                        return True
                except OSError:
                    return True
        return False

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def main():
    # A parent may have spawned us with signals blocked (Swift test runners do): unblock them so that
    # SIGTERM and SIGINT stop the server.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()
    with open(args.script) as f:
        state["script"] = json.load(f)
    state["log"] = args.log
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

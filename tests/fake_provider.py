#!/usr/bin/env python3
"""Fake LLM / embedding HTTP provider for deskfs tests (standard library only).

Usage
-----
    python3 tests/fake_provider.py --port-file FILE [--log FILE]

Binds 127.0.0.1 on an ephemeral port, then writes the port number (decimal and
a newline) to FILE atomically (FILE.tmp, then rename) once it is accepting
connections.  Serves HTTP/1.1 with keep-alive (every response carries
Content-Length) on many threads until SIGTERM or SIGINT, then exits 0.  The
port file is left in place.  One line per request is appended to --log (or
stderr), flushed:

    POST /v1/chat/completions fault=ok status=200 ms=1

Provider APIs
-------------
All are POST with a JSON body.  MODEL is the body's "model" field (Gemini: the
model named in the path).  Only non-streaming answers are produced; a
"stream": true request still gets one plain JSON answer.

  openai chat        /v1/chat/completions, or any path ending in
                     /chat/completions
      -> {"id":"chatcmpl-fake","object":"chat.completion","created",
          "model","choices":[{"index":0,"message":{"role":"assistant",
          "content":TEXT},"finish_reason":"stop"}],"usage":{"prompt_tokens",
          "completion_tokens","total_tokens"}}
  openai embeddings  any other path ending in /embeddings; "input": str or
                     [str, ...]
      -> {"object":"list","data":[{"object":"embedding","index":i,
          "embedding":[...]}, ...],"model","usage":{"prompt_tokens",
          "total_tokens"}}
  ollama chat        /api/chat
      -> {"model","created_at","message":{"role":"assistant","content":TEXT},
          "done":true,"done_reason":"stop","prompt_eval_count","eval_count"}
  ollama embed       /api/embed; "input": str or [str, ...]
      -> {"model","embeddings":[[...], ...],"prompt_eval_count"}
  ollama legacy      /api/embeddings; "prompt": str
      -> {"embedding":[...]}
  anthropic          /v1/messages
      -> {"id":"msg_fake","type":"message","role":"assistant","model",
          "content":[{"type":"text","text":TEXT}],"stop_reason":"end_turn",
          "stop_sequence":null,"usage":{"input_tokens","output_tokens"}}
  gemini             /v1beta/models/MODEL:generateContent (any prefix before
                     /models/; a query such as ?key= is only recorded)
      -> {"candidates":[{"content":{"role":"model","parts":[{"text":TEXT}]},
          "finishReason":"STOP","index":0}],"usageMetadata":{
          "promptTokenCount","candidatesTokenCount","totalTokenCount"},
          "modelVersion":MODEL}

TEXT is "Fake answer from API for MODEL: see [1]." (API: openai, ollama,
anthropic or gemini) unless a reply was set through /_control.  Prompt tokens
P = number of whitespace-separated words in all string values of the request
body, except the values of "model", "role" and "type" keys (embeddings: words
of the inputs); completion tokens C = words in TEXT.

Embeddings are deterministic: for each input string, DIM (default 8) values
taken from SHA-256(b"K:" + utf-8 text) for K = 0, 1, ... (4 bytes per value,
big-endian, scaled to [-1, 1]), then normalised to unit length.  The same text
always gives the same vector, whatever the API or its position in the batch.

Any other path (or another method on a provider path) gets 404 (405) with a
JSON error body; it is recorded with "fault": null and consumes no fault.

Control endpoints
-----------------
These are not provider requests: never recorded, they consume no fault.
  POST /_control  JSON with any subset of
        {"faults": [MODE, ...],   appended to a FIFO queue (a single string ok)
         "reply": "text",         TEXT for every API (null: back to default)
         "replies": ["t1", ...],  TEXTs for the next chat requests, one each
                                  (FIFO, appended; "reply" after they run out)
         "dim": 16,               embedding dimension (>= 1)
         "default": MODE}         fault used when the queue is empty (initially
                                  "ok")
      -> {"ok": true}; an invalid MODE or field -> 400 and nothing is changed.
  GET  /_requests -> JSON array, in arrival order, of every recorded request:
        {"method", "path" (without query), "query" (raw query string),
         "headers": {lower-case name: value}, "body": parsed JSON (or the raw
         text if not JSON), "fault": MODE applied (null if none)}
      A request is recorded as soon as its body is read, before its fault is
      applied (so a "slow" request is already visible while it sleeps).
  POST /_reset -> {"ok": true}; clears requests, fault queue, reply, dim and
      default.

Fault MODEs
-----------
Each provider request pops one MODE from the queue (or uses the default).
The request body is always read in full before the fault is applied.
  ok            normal answer.
  slow:SECONDS  sleep SECONDS (float), then answer normally.
  429:SECONDS   status 429, header "Retry-After: SECONDS" (non-negative integer
                as given), rate-limit error body.  Plain "429": no Retry-After.
  500 503 401 400 (any 400..599)
                that status with the API's error body.
  bad_json      200, application/json, body '{"choices": [ {"message": '.
  truncated     200 with the Content-Length of the full valid answer, but
                only its first half is sent, then the connection is closed.
  drop          close the connection without sending anything.  Beware:
                libcurl silently resends a request once (on a new connection)
                when a *reused* keep-alive connection closes before any byte
                of the answer, so there "drop" alone is invisible to the
                client (and the resend pops the next fault).  Queue
                ["drop", "drop"] (or set "default": "drop") to make a client
                on a reused connection see the failure; on a fresh connection
                one "drop" is enough.
  empty         200 with a valid answer of the right shape with no answer text:
                openai chat "choices": [], openai embeddings "data": [],
                ollama chat message content "", ollama embed "embeddings": [],
                legacy ollama "embedding": [], anthropic "content": [],
                gemini "candidates": [].

Error bodies follow each API: openai {"error":{"message","type","code"}},
anthropic {"type":"error","error":{"type","message"}}, gemini {"error":{"code",
"message","status"}}, ollama {"error": "message"}; unknown paths use the
openai shape.
"""

import argparse
import hashlib
import http.server
import json
import math
import os
import re
import signal
import struct
import sys
import threading
import time
import urllib.parse

DEFAULT_DIM = 8
SKIP_KEYS = ("model", "role", "type")
GEMINI_RE = re.compile(r"^/(?:.*/)?models/([^/]+):generateContent$")
BAD_JSON = b'{"choices": [ {"message": '

# status -> (openai type, anthropic type, gemini status, message)
ERRORS = {
    400: ("invalid_request_error", "invalid_request_error", "INVALID_ARGUMENT",
          "fake bad request"),
    401: ("authentication_error", "authentication_error", "UNAUTHENTICATED",
          "fake invalid API key"),
    429: ("rate_limit_error", "rate_limit_error", "RESOURCE_EXHAUSTED",
          "fake rate limit exceeded"),
    500: ("server_error", "api_error", "INTERNAL", "fake internal error"),
    503: ("server_error", "overloaded_error", "UNAVAILABLE",
          "fake service unavailable"),
}


class BadMode(ValueError):
    pass


def parse_mode(mode):
    """Validate a fault MODE; return it (as a string) or raise BadMode."""
    if not isinstance(mode, str):
        raise BadMode("fault mode must be a string: %r" % (mode,))
    if mode in ("ok", "bad_json", "truncated", "drop", "empty"):
        return mode
    name, sep, arg = mode.partition(":")
    if name == "slow" and sep:
        try:
            secs = float(arg)
        except ValueError:
            raise BadMode("bad slow seconds: %r" % mode) from None
        if not math.isfinite(secs) or secs < 0:
            raise BadMode("bad slow seconds: %r" % mode)
        return mode
    if name.isdigit() and 400 <= int(name) <= 599:
        if not sep:
            return mode
        if name == "429" and arg.isdigit():
            return mode
    raise BadMode("unknown fault mode: %r" % mode)


def count_words(value, key=None):
    if isinstance(value, str):
        return 0 if key in SKIP_KEYS else len(value.split())
    if isinstance(value, dict):
        return sum(count_words(v, k) for k, v in value.items())
    if isinstance(value, list):
        return sum(count_words(v, key) for v in value)
    return 0


def embed(text, dim):
    data = text.encode("utf-8")
    raw = b""
    k = 0
    while len(raw) < 4 * dim:
        raw += hashlib.sha256(b"%d:" % k + data).digest()
        k += 1
    vals = [u / 0xFFFFFFFF * 2.0 - 1.0
            for u in struct.unpack(">%dI" % dim, raw[:4 * dim])]
    norm = math.sqrt(sum(v * v for v in vals)) or 1.0
    return [v / norm for v in vals]


def as_inputs(value):
    """Embedding inputs as a list of strings (str, [str], or anything else)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v) for v in value]
    return [value if isinstance(value, str) else json.dumps(value)]


class State:
    """Fault queue, reply, dimension and request log, guarded by one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = []
            self.faults = []
            self.reply = None
            self.replies = []
            self.dim = DEFAULT_DIM
            self.default = "ok"

    def control(self, obj):
        if not isinstance(obj, dict):
            raise BadMode("control body must be a JSON object")
        faults = obj.get("faults", [])
        if isinstance(faults, str):
            faults = [faults]
        if not isinstance(faults, list):
            raise BadMode("faults must be a list")
        faults = [parse_mode(m) for m in faults]
        default = parse_mode(obj["default"]) if "default" in obj else None
        if "reply" in obj and not isinstance(obj["reply"], (str, type(None))):
            raise BadMode("reply must be a string or null")
        replies = obj.get("replies", [])
        if not isinstance(replies, list) or \
                not all(isinstance(r, str) for r in replies):
            raise BadMode("replies must be a list of strings")
        dim = obj.get("dim")
        if "dim" in obj and (not isinstance(dim, int) or isinstance(dim, bool)
                             or dim < 1):
            raise BadMode("dim must be a positive integer")
        with self.lock:
            self.faults.extend(faults)
            if default is not None:
                self.default = default
            if "reply" in obj:
                self.reply = obj["reply"]
            self.replies.extend(replies)
            if "dim" in obj:
                self.dim = dim

    def record(self, entry, provider, chat=False):
        """Log a request; for a provider request pop and return its fault,
        reply (a queued one for a chat request) and dimension under the
        same lock."""
        with self.lock:
            fault = None
            reply = self.reply
            if provider:
                fault = self.faults.pop(0) if self.faults else self.default
            if chat and self.replies:
                reply = self.replies.pop(0)
            entry["fault"] = fault
            self.requests.append(entry)
            return fault, reply, self.dim

    def snapshot(self):
        with self.lock:
            return list(self.requests)


class Logger:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.fp = open(path, "a", encoding="utf-8") if path else sys.stderr

    def line(self, text):
        with self.lock:
            self.fp.write(text + "\n")
            self.fp.flush()


def route(path):
    """Return (api, kind, gemini model) for a provider path, or None."""
    if path.endswith("/chat/completions"):
        return ("openai", "chat", None)
    if path == "/api/chat":
        return ("ollama", "chat", None)
    if path == "/api/embed":
        return ("ollama", "embed", None)
    if path == "/api/embeddings":
        return ("ollama", "embed_legacy", None)
    if path.endswith("/embeddings"):
        return ("openai", "embed", None)
    if path == "/v1/messages":
        return ("anthropic", "chat", None)
    m = GEMINI_RE.match(path)
    if m:
        return ("gemini", "chat", urllib.parse.unquote(m.group(1)))
    return None


def answer(api, kind, model, body, reply, dim, empty):
    """The JSON answer of one provider request."""
    body = body if isinstance(body, dict) else {}
    if model is None:
        model = body.get("model")
        model = model if isinstance(model, str) else "unknown"
    if kind in ("embed", "embed_legacy"):
        texts = as_inputs(body.get("prompt" if kind == "embed_legacy"
                                   else "input"))
        p = sum(len(t.split()) for t in texts)
        vecs = [] if empty else [embed(t, dim) for t in texts]
        if kind == "embed_legacy":
            return {"embedding": vecs[0] if vecs else []}
        if api == "ollama":
            return {"model": model, "embeddings": vecs, "prompt_eval_count": p}
        return {"object": "list",
                "data": [{"object": "embedding", "index": i, "embedding": v}
                         for i, v in enumerate(vecs)],
                "model": model,
                "usage": {"prompt_tokens": p, "total_tokens": p}}
    text = reply if reply is not None else \
        "Fake answer from %s for %s: see [1]." % (api, model)
    p = count_words(body)
    c = 0 if empty else len(text.split())
    if api == "openai":
        choices = [] if empty else [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"}]
        return {"id": "chatcmpl-fake", "object": "chat.completion",
                "created": 1700000000, "model": model, "choices": choices,
                "usage": {"prompt_tokens": p, "completion_tokens": c,
                          "total_tokens": p + c}}
    if api == "ollama":
        return {"model": model, "created_at": "2024-01-01T00:00:00Z",
                "message": {"role": "assistant",
                            "content": "" if empty else text},
                "done": True, "done_reason": "stop",
                "prompt_eval_count": p, "eval_count": c}
    if api == "anthropic":
        return {"id": "msg_fake", "type": "message", "role": "assistant",
                "model": model,
                "content": [] if empty else [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": p, "output_tokens": c}}
    candidates = [] if empty else [{
        "content": {"role": "model", "parts": [{"text": text}]},
        "finishReason": "STOP", "index": 0}]
    return {"candidates": candidates,
            "usageMetadata": {"promptTokenCount": p,
                              "candidatesTokenCount": c,
                              "totalTokenCount": p + c},
            "modelVersion": model}


def error_body(api, status, message=None):
    otype, atype, gstatus, msg = ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error",
                 "api_error" if status >= 500 else "invalid_request_error",
                 "INTERNAL" if status >= 500 else "FAILED_PRECONDITION",
                 "fake error %d" % status))
    msg = message or msg
    if api == "anthropic":
        return {"type": "error", "error": {"type": atype, "message": msg}}
    if api == "gemini":
        return {"error": {"code": status, "message": msg, "status": gstatus}}
    if api == "ollama":
        return {"error": msg}
    return {"error": {"message": msg, "type": otype, "code": status}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle
    # holds the body for the client's delayed ACK (~40 ms a reused call)
    disable_nagle_algorithm = True

    def version_string(self):
        return "fake-provider/1"

    def log_message(self, fmt, *args):  # quiet; we log our own lines
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, payload, headers=(), send_len=None):
        """Send a response; payload is bytes or a JSON-able object.  If
        send_len is given, only that many body bytes are written."""
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload if send_len is None else payload[:send_len])
        self.wfile.flush()
        self.status = status

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        start = time.monotonic()
        self.status = "-"
        fault = "-"
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            raw = self.read_body()
            fault = self.handle_request(path, url.query, raw)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
            self.status = "%s(client gone)" % self.status
        except Exception as e:  # a bug or a malformed request: answer 500
            self.close_connection = True
            self.server.log.line("error: %s %s: %r" % (self.command, path, e))
            try:
                self.send(500, error_body("openai", 500, "bug: %r" % e))
            except OSError:
                pass
        self.server.log.line("%s %s fault=%s status=%s ms=%d" % (
            self.command, path, fault if fault is not None else "-",
            self.status, (time.monotonic() - start) * 1000))

    def handle_request(self, path, query, raw):
        state = self.server.state
        if path == "/_control" and self.command == "POST":
            try:
                state.control(json.loads(raw.decode("utf-8") or "{}"))
            except (ValueError, BadMode) as e:
                self.send(400, {"ok": False, "error": str(e)})
                return "-"
            self.send(200, {"ok": True})
            return "-"
        if path == "/_requests" and self.command == "GET":
            self.send(200, state.snapshot())
            return "-"
        if path == "/_reset" and self.command == "POST":
            state.reset()
            self.send(200, {"ok": True})
            return "-"

        text = raw.decode("utf-8", errors="replace")
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + ", " + value \
                if name in headers else value
        entry = {"method": self.command, "path": path, "query": query,
                 "headers": headers, "body": body}
        r = route(path)
        if r is None or self.command != "POST":
            state.record(entry, provider=False)
            status = 404 if r is None else 405
            what = "not found" if r is None else "needs POST"
            msg = "fake provider: %s %s %s" % (self.command, path, what)
            self.send(status, error_body("openai", status, msg))
            return None
        api, kind, model = r
        fault, reply, dim = state.record(entry, provider=True,
                                         chat=kind == "chat")
        self.apply(fault, api, kind, model, body, reply, dim)
        return fault

    def apply(self, fault, api, kind, model, body, reply, dim):
        name, _, arg = fault.partition(":")
        if name == "slow":
            time.sleep(float(arg))
        if name in ("ok", "slow", "empty", "truncated"):
            payload = json.dumps(answer(api, kind, model, body, reply, dim,
                                        empty=(name == "empty"))).encode()
            if name == "truncated":
                self.close_connection = True
                self.send(200, payload, send_len=len(payload) // 2)
                self.status = "200(truncated)"
            else:
                self.send(200, payload)
        elif name == "bad_json":
            self.send(200, BAD_JSON)
        elif name == "drop":
            self.close_connection = True
            self.status = "dropped"
        else:
            status = int(name)
            headers = [("Retry-After", arg)] if arg else []
            self.send(status, error_body(api, status), headers)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 resets bursts of connections

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # client went away mid-request
            self.log.line("connection error from %s: %r" % (client_address,
                                                             exc))
        else:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="Fake LLM/embedding provider "
                                 "for deskfs tests (see module docstring).")
    ap.add_argument("--port-file", required=True,
                    help="write the listening port here (atomically)")
    ap.add_argument("--log", help="request log file (default: stderr)")
    args = ap.parse_args()

    server = Server(("127.0.0.1", 0), Handler)
    server.state = State()
    server.log = Logger(args.log)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()

    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, args.port_file)
    server.log.line("listening on 127.0.0.1:%d" % port)

    while not stop.wait(0.1):
        pass
    server.shutdown()
    server.server_close()
    server.log.line("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

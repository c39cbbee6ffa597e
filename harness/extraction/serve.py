"""The extraction service: the Python extractors behind a subset of Tika server's HTTP API,
so a connector written for one runs against the other (docs/extraction.md).

    PUT /tika          the file's bytes in; its text out (text/plain; charset=UTF-8)
    PUT /rmeta/text    the same, as Tika's JSON: [{"Content-Type", "X-TIKA:content", ...}]
    GET /tika          a greeting (readiness)     GET /version    the engine and its version
    GET /stats         files, bytes and parse seconds (CPU and wall) since start: what a
                       benchmark needs for the extraction share of a sync (not Tika's)

A file that cannot be read (corrupt, encrypted, unknown) answers 422 with the reason; one
over ``--max-bytes`` answers 413 before a byte of it is parsed.

    python -m harness.extraction.serve --port 9998 [--max-bytes N]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.extraction.python_engine import ExtractionError, extract

GREETING = b"This is Tika Server's API, served by the harness's Python extractors.\n"
VERSION = "harness-python-extractors 1"
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "html": "text/html",
    "text": "text/plain",
}


class Counters:
    """Totals over the service's life; a reader takes differences around its own work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.totals = {"files": 0, "bytes": 0, "parse_cpu_seconds": 0.0, "parse_seconds": 0.0}

    def add(self, size: int, cpu: float, wall: float) -> None:
        with self._lock:
            self.totals["files"] += 1
            self.totals["bytes"] += size
            self.totals["parse_cpu_seconds"] += cpu
            self.totals["parse_seconds"] += wall

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.totals)


class ExtractionHandler(BaseHTTPRequestHandler):
    counters = Counters()
    max_bytes: int = 0  # set on the subclass the server builds
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers, 40 ms a file on Linux.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        return  # one line per file would drown the service's log

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    _refused = False

    def _over_cap(self, length: int) -> bool:
        return bool(self.max_bytes) and length > self.max_bytes

    def _over_cap_reason(self, length: int) -> bytes:
        return f"{length} bytes, over {self.max_bytes}\n".encode()

    def handle_expect_100(self) -> bool:
        """A client that asks first is told before it sends a byte."""
        length = int(self.headers.get("Content-Length") or 0)
        if self._over_cap(length):
            self._refused = True
            self.close_connection = True
            self._send(413, self._over_cap_reason(length), "text/plain")
            return False
        return super().handle_expect_100()

    def _drain(self, length: int) -> None:
        """Read and drop a refused body, a chunk at a time: the client may then read the
        answer instead of failing on a broken pipe."""
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def do_GET(self) -> None:
        if self.path == "/tika":
            self._send(200, GREETING, "text/plain; charset=UTF-8")
        elif self.path == "/version":
            self._send(200, VERSION.encode(), "text/plain; charset=UTF-8")
        elif self.path == "/stats":
            self._send(200, json.dumps(self.counters.snapshot()).encode(), "application/json")
        else:
            self._send(404, b"not found\n", "text/plain")

    def do_PUT(self) -> None:
        if self.path not in ("/tika", "/rmeta/text"):
            self._send(404, b"not found\n", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if self._over_cap(length):
            if not self._refused:  # no Expect: 100-continue, so the body is on its way
                self._drain(length)
                self._send(413, self._over_cap_reason(length), "text/plain")
            return
        data = self.rfile.read(length)
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            text, metadata = extract(data)
        except ExtractionError as exc:
            self._send(422, f"{exc}\n".encode(), "text/plain; charset=UTF-8")
            return
        finally:
            self.counters.add(len(data), time.thread_time() - cpu, time.perf_counter() - started)
        if self.path == "/tika":
            self._send(200, text.encode(), "text/plain; charset=UTF-8")
            return
        record = {
            "Content-Type": CONTENT_TYPES.get(metadata["format"], "application/octet-stream"),
            "Content-Length": str(len(data)),
            "X-TIKA:content": text,
            "X-TIKA:parse_time_millis": str(round((time.perf_counter() - started) * 1000)),
        }
        self._send(200, json.dumps([record]).encode(), "application/json")


def serve(port: int, max_bytes: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    handler = type(
        "Handler", (ExtractionHandler,), {"max_bytes": max_bytes, "counters": Counters()}
    )
    return ThreadingHTTPServer((host, port), handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-bytes", type=int, default=0, help="0: no cap")
    args = parser.parse_args()
    server = serve(args.port, args.max_bytes)
    print(f"extraction service on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

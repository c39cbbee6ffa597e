"""An HTTP front for Elasticsearch that answers ``GET /`` itself.

The plain distribution the harness runs has no handler for ``GET /`` (it answers 405),
and their service's preflight check reads the server's version there before anything else.
Rather than patch their code, their service talks to this front: ``/`` is answered with the
cluster's real name and version, every other request is passed through as it is."""

from __future__ import annotations

import http.client
import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from harness.services.es_http import ElasticsearchEndpoint

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


def main_info(call: Callable[[str, str], Any]) -> dict[str, Any]:
    """What ``GET /`` answers on a full distribution, from the cluster's own APIs
    (``call(method, path)``: the caller's way of reaching the cluster)."""
    health = call("GET", "/_cluster/health")
    nodes = call("GET", "/_nodes/_local")
    node = next(iter(nodes["nodes"].values()))
    return {
        "name": node.get("name"),
        "cluster_name": health.get("cluster_name"),
        "cluster_uuid": nodes.get("cluster_name", ""),
        "version": {
            "number": node.get("version"),
            "build_flavor": "default",
            "build_type": node.get("build_type", "zip"),
            "build_hash": node.get("build_hash", ""),
            "lucene_version": "",
            "minimum_wire_compatibility_version": "",
            "minimum_index_compatibility_version": "",
        },
        "tagline": "You Know, for Search",
    }


def _handler(target: tuple[str, int], info: bytes, secure: bool) -> type[BaseHTTPRequestHandler]:
    connection = http.client.HTTPSConnection if secure else http.client.HTTPConnection

    class Front(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet: their service logs its calls
            return

        def _answer_main(self, with_body: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-elastic-product", "Elasticsearch")
            self.send_header("Content-Length", str(len(info)))
            self.end_headers()
            if with_body:
                self.wfile.write(info)

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream = connection(*target, timeout=300)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
            finally:
                upstream.close()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _route(self) -> None:
            if urlsplit(self.path).path == "/" and self.command in ("GET", "HEAD"):
                self._answer_main(self.command == "GET")
            else:
                self._forward()

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _route

    return Front


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (their service stopping, a timed-out request) is
    theirs to report: no traceback on our stderr for it."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def es_front(endpoint: ElasticsearchEndpoint, main: dict[str, Any]) -> Iterator[str]:
    """The front's URL while the block runs (127.0.0.1, a free port); ``main``: what it
    answers on ``/`` (``main_info``)."""
    parts = urlsplit(endpoint.url)
    target = (parts.hostname or "127.0.0.1", parts.port or 9200)
    info = json.dumps(main).encode()
    server = _QuietServer(("127.0.0.1", 0), _handler(target, info, parts.scheme == "https"))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="es-front", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

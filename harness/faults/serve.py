"""The fault proxy as a service: ``python -m harness.faults.serve --port P`` hosts fault
proxies that a control API creates, switches and reads, so a process other than the test
(``harness up``, a shell, another language's test suite) can put any service behind one.

Control API, JSON over HTTP on 127.0.0.1:
  GET    /                          {"service": "fault_proxy", "proxies": n}
  POST   /proxies                   {"upstream": "host:port", "mode": "http"|"tcp"}
                                    -> {"id": "1", "address": "127.0.0.1:40123"}
  POST   /proxies/ID/ACTION         the FaultProxy call's arguments as an object
  GET    /proxies/ID                {"upstream", "address", "mode", "stats"}
  DELETE /proxies/ID
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import itertools
import json
import signal
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.faults.proxy import FaultProxy
from harness.services.ports import LOOPBACK

ACTIONS = frozenset(
    {
        "fail",
        "drop",
        "cut",
        "cut_after",
        "cut_connections",
        "latency",
        "throttle",
        "hold",
        "release",
        "stall",
        "clear",
    }
)


class ProxyHost:
    """The proxies one serve process runs, by id."""

    def __init__(self) -> None:
        self.proxies: dict[str, tuple[FaultProxy, str]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def create(self, upstream: str, mode: str) -> dict[str, Any]:
        host, _, port = upstream.rpartition(":")
        if not host or not port.isdigit() or mode not in ("http", "tcp"):
            raise ValueError('give {"upstream": "host:port", "mode": "http" or "tcp"}')
        proxy = FaultProxy(host, int(port), http=mode == "http")
        with self._lock:
            key = str(next(self._ids))
            self.proxies[key] = (proxy, upstream)
        return {"id": key, "address": _address(proxy)}

    def act(self, key: str, action: str, arguments: dict[str, Any]) -> Any:
        proxy = self._get(key)[0]
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(sorted(ACTIONS))}")
        call: Callable[..., Any] = getattr(proxy, action)
        try:
            inspect.signature(call).bind(**arguments)
        except TypeError as exc:
            raise ValueError(f"{action}{inspect.signature(call)}: {exc}") from None
        result = call(**arguments)
        return result if isinstance(result, int | float | str | None) else None

    def describe(self, key: str) -> dict[str, Any]:
        proxy, upstream = self._get(key)
        stats = dataclasses.asdict(proxy.stats)
        stats["faults"] = dict(proxy.stats.faults)
        mode = "http" if proxy.http else "tcp"
        return {"upstream": upstream, "address": _address(proxy), "mode": mode, "stats": stats}

    def remove(self, key: str) -> dict[str, str]:
        self._get(key)[0].close()
        with self._lock:
            self.proxies.pop(key, None)
        return {"removed": key}

    def close(self) -> None:
        for key in list(self.proxies):
            self.remove(key)

    def _get(self, key: str) -> tuple[FaultProxy, str]:
        try:
            return self.proxies[key]
        except KeyError:
            raise LookupError(f"no proxy {key!r}; proxies: {sorted(self.proxies)}") from None


def _address(proxy: FaultProxy) -> str:
    return f"{proxy.address[0]}:{proxy.address[1]}"


def handler_for(host: ProxyHost) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the console log is for errors."""

        def do_GET(self) -> None:
            parts = self._parts()
            if not parts:
                self._answer(200, {"service": "fault_proxy", "proxies": len(host.proxies)})
            elif len(parts) == 2 and parts[0] == "proxies":
                self._run(lambda: host.describe(parts[1]))
            else:
                self._answer(404, {"error": f"no such resource: {self.path}"})

        def do_POST(self) -> None:
            parts, body = self._parts(), self._body()
            if parts == ["proxies"]:
                self._run(lambda: host.create(body.get("upstream", ""), body.get("mode", "")))
            elif len(parts) == 3 and parts[0] == "proxies":
                self._run(lambda: {"result": host.act(parts[1], parts[2], body)})
            else:
                self._answer(404, {"error": f"no such resource: {self.path}"})

        def do_DELETE(self) -> None:
            parts = self._parts()
            if len(parts) == 2 and parts[0] == "proxies":
                self._run(lambda: host.remove(parts[1]))
            else:
                self._answer(404, {"error": f"no such resource: {self.path}"})

        def _parts(self) -> list[str]:
            return [p for p in self.path.split("?", 1)[0].split("/") if p]

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError:
                parsed = None
            return parsed if isinstance(parsed, dict) else {"_invalid": True}

        def _run(self, work: Callable[[], Any]) -> None:
            try:
                self._answer(200, work())
            except LookupError as exc:
                self._answer(404, {"error": str(exc)})
            except (ValueError, TypeError, OSError, RuntimeError) as exc:
                self._answer(400, {"error": str(exc)})

        def _answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Control


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    host = ProxyHost()
    server = ThreadingHTTPServer((LOOPBACK, args.port), handler_for(host))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"fault proxy control on http://{LOOPBACK}:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        host.close()
        server.server_close()


if __name__ == "__main__":  # pragma: no cover - the service process
    main()

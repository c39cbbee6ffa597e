"""``harness up | down | status``: real services for humans, outside pytest."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from harness.services.base import ElasticsearchEndpoint, ServiceError
from harness.services.es_distribution import DEFAULT_ES_VERSION, resolve_distribution
from harness.services.java import find_jdk
from harness.services.options import BACKENDS, ServiceOptions
from harness.services.provider import SERVICES, provide, shutdown_recorded, start_reusable
from harness.services.reuse import answering, from_record, locked_state, read_state, to_record
from harness.services.workdirs import clean_stale


def _describe(name: str, endpoint: Any, show_secrets: bool = False) -> str:
    if isinstance(endpoint, ElasticsearchEndpoint):
        where = endpoint.url if show_secrets else endpoint.redacted_url()
    else:
        where = endpoint.dsn() if show_secrets else endpoint.redacted_dsn()
    return f"{name:<14} {endpoint.version:<8} {where}"


def _options(args: argparse.Namespace) -> ServiceOptions:
    return ServiceOptions.from_env(backend=args.backend, es_version=args.es_version)


def cmd_up(args: argparse.Namespace) -> int:
    clean_stale()
    options = _options(args)
    if args.detach:
        if options.backend not in ("auto", "local"):
            raise ServiceError(
                "--detach keeps local services running; it does not apply to "
                f"backend {options.backend!r}"
            )
        for name in SERVICES:
            print(_describe(name, start_reusable(name, options).endpoint), flush=True)
        print(
            "Services keep running; `harness down` stops them, `pytest --reuse-services` uses them."
        )
        return 0
    started = []
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        for name in SERVICES:
            service = provide(name, options)
            started.append(service)
            print(_describe(name, service.endpoint), flush=True)
            if service.backend == "local" and hasattr(service, "process"):
                with locked_state() as state:  # lets `pytest --reuse-services` attach meanwhile
                    state[name] = to_record(service, f"harness-up {name}")
        print("Full DSN with password: `harness status --show-secrets`. Ctrl-C stops.", flush=True)
        while not stop.wait(1.0):
            if any(s.pids() == [] and s.backend == "local" for s in started):
                print("a service went away (harness down?); stopping the rest", file=sys.stderr)
                break
    finally:
        for service in reversed(started):
            service.stop()
        with locked_state() as state:
            for name in SERVICES:
                if state.get(name, {}).get("key") == f"harness-up {name}":
                    del state[name]
    return 0


def cmd_down(_args: argparse.Namespace) -> int:
    stopped = shutdown_recorded()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = read_state()
    if not state:
        print("no services recorded (start some with `harness up`)")
        return 1
    healthy = True
    for name in SERVICES:
        if name in state:
            service = from_record(name, state[name])
            ok = answering(service)
            healthy &= ok
            status = "up" if ok else "DOWN"
            line = _describe(name, service.endpoint, args.show_secrets)
            print(f"{line}  {status}  pids {service.pids()}")
    return 0 if healthy else 1


def cmd_fetch(args: argparse.Namespace) -> int:
    dist = resolve_distribution(args.es_version or DEFAULT_ES_VERSION)
    jdk = find_jdk(dist.version)
    print(f"elasticsearch {dist.version} at {dist.home} ({dist.source})")
    print(f"java {jdk.major} at {jdk.home}")
    return 0


def cmd_bench_compare(args: argparse.Namespace) -> int:
    from harness.bench.compare import compare_runs, render
    from harness.bench.results import ResultsError, load

    try:
        base, new = load(args.base), load(args.new)
        result = compare_runs(
            base, new, args.threshold, args.alpha, args.memory_threshold, args.min_seconds
        )
    except (ResultsError, ValueError) as exc:
        print(f"harness bench compare: {exc}", file=sys.stderr)
        return 2
    print(render(result, base, new))
    return 1 if result.regressed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.bench.report import write_report
    from harness.bench.results import ResultsError, load

    paths = [Path(p) for p in args.results] or sorted(Path(".benchmarks").rglob("*.json"))
    if not paths:
        print(
            "harness report: no result files (run benchmarks with --benchmark-autosave, "
            "or name the JSON files)",
            file=sys.stderr,
        )
        return 2
    try:
        runs = [load(p) for p in paths]
    except ResultsError as exc:
        print(f"harness report: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {write_report(runs, Path(args.output))} ({len(runs)} runs)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start Elasticsearch and PostgreSQL; stay up until Ctrl-C")
    up.add_argument("--detach", action="store_true", help="start (or reuse) services and return")
    up.add_argument("--backend", choices=BACKENDS, default=None)
    up.add_argument("--es-version", default=None)
    up.set_defaults(func=cmd_up)
    down = sub.add_parser(
        "down", help="stop services left running by `up --detach` or --reuse-services"
    )
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="show recorded services and whether they answer")
    status.add_argument(
        "--show-secrets", action="store_true", help="print the full DSN, password included"
    )
    status.set_defaults(func=cmd_status)
    bench = sub.add_parser("bench", help="benchmark results").add_subparsers(
        dest="bench_command", required=True
    )
    compare = bench.add_parser(
        "compare", help="exit 1 if NEW regressed against BASE, 2 on bad input"
    )
    compare.add_argument("base")
    compare.add_argument("new")
    compare.add_argument(
        "--threshold",
        type=float,
        default=0.15,
        help="smallest throughput change that counts (default 0.15 = 15%%)",
    )
    compare.add_argument(
        "--min-seconds",
        type=float,
        default=0.25,
        help="benchmarks whose rounds are shorter are shown, not judged (default 0.25 s)",
    )
    compare.add_argument("--alpha", type=float, default=0.05, help="significance level")
    compare.add_argument(
        "--memory-threshold",
        type=float,
        default=0.20,
        help="peak RSS growth that counts as a regression (default 20%%)",
    )
    compare.set_defaults(func=cmd_bench_compare)
    report = sub.add_parser("report", help="write an offline HTML page of benchmark history")
    report.add_argument("results", nargs="*", help="result JSON files (default: .benchmarks/)")
    report.add_argument("-o", "--output", default="benchmark-report.html")
    report.set_defaults(func=cmd_report)
    fetch = sub.add_parser("fetch", help="download and cache the Elasticsearch distribution")
    fetch.add_argument("--es-version", default=None)
    fetch.set_defaults(func=cmd_fetch)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ServiceError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

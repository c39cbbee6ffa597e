"""``harness up | down | status``: real services for humans, outside pytest."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from harness import defaults
from harness.cost.command import add_cost_command
from harness.services import registry
from harness.services.base import ServiceError
from harness.services.es_distribution import (
    IntegrityError,
    cache_root,
    choose_default_version,
    resolve_distribution,
)
from harness.services.java import NoSuitableJdk, find_jdk
from harness.services.options import BACKENDS, HarnessOptions, dest
from harness.services.provider import provide, shutdown_recorded, start_reusable
from harness.services.reuse import answering, from_record, locked_state, read_state, to_record
from harness.services.workdirs import clean_stale
from harness.stress.command import add_stress_command

EXIT_NO_JDK = 3  # `harness fetch`: the distribution is fine, no JDK can run it


def _describe(name: str, endpoint: Any, show_secrets: bool = False) -> str:
    return f"{name:<14} {endpoint.version:<8} {endpoint.location(reveal=show_secrets)}"


def _options(args: argparse.Namespace) -> HarnessOptions:
    return HarnessOptions.resolve(
        lambda key: getattr(args, key, None), backend=getattr(args, "backend", None)
    )


def _kinds(args: argparse.Namespace) -> list[str]:
    """--services, else the kinds the standard scenarios need."""
    if args.services:
        names = [n.strip() for n in args.services.split(",") if n.strip()]
        for name in names:
            registry.kind(name)  # an unknown name is an error that lists the known ones
        return names
    return [k.name for k in registry.all_kinds() if k.needed_by_default]


def cmd_up(args: argparse.Namespace) -> int:
    clean_stale()
    options = _options(args)
    names = _kinds(args)
    if args.detach:
        if options.backend not in ("auto", "local"):
            raise ServiceError(
                "--detach keeps local services running; it does not apply to "
                f"backend {options.backend!r}"
            )
        for name in names:
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
        for name in names:
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
            for name in names:
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
    for name, record in state.items():
        try:
            service = from_record(name, record)
        except (ServiceError, KeyError) as exc:
            healthy = False
            print(f"{name:<14} recorded, but cannot be read here: {exc}")
            continue
        ok = answering(service)
        healthy &= ok
        status = "up" if ok else "DOWN"
        line = _describe(name, service.endpoint, args.show_secrets)
        print(f"{line}  {status}  pids {service.pids()}")
    return 0 if healthy else 1


def _fetch_elastic(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.subjects import SubjectUnavailable
    from harness.subjects.elastic import fetch

    try:
        if args.elastic_connectors_checkout:
            framework = fetch.from_checkout(Path(args.elastic_connectors_checkout))
        else:
            target = cache_root() / "elastic-connectors" / args.elastic_connectors
            framework = fetch.from_registry(args.elastic_connectors, target)
    except SubjectUnavailable as exc:
        print(f"harness fetch: {exc}", file=sys.stderr)
        return 2
    venv = framework.python.parent.parent
    print(f"Elastic's connectors framework {framework.version} in {venv}")
    print(f"use it: pytest scenarios/postgres --subject elastic:{venv}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    if args.elastic_connectors or args.elastic_connectors_checkout:
        return _fetch_elastic(args)
    config = _options(args).config("elasticsearch")
    try:
        dist = resolve_distribution(
            config.effective_version, config.distribution, config.trust_unverified
        )
    except IntegrityError as exc:
        print(f"harness fetch: {exc}", file=sys.stderr)
        return 2
    try:
        jdk = find_jdk(dist.version)
    except NoSuitableJdk as exc:
        print(f"harness fetch: {exc}", file=sys.stderr)
        return EXIT_NO_JDK
    if args.make_default:
        choose_default_version(None if dist.version == defaults.ES_VERSION else dist.version)
    print(f"elasticsearch {dist.version} at {dist.home} ({dist.source})")
    print(f"java {jdk.major} at {jdk.home}")
    return 0


def cmd_compare_subjects(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.bench.compare_subjects import compare, render, to_json

    subjects = [s.strip() for s in args.subjects.split(",") if s.strip()]
    figures = compare(
        Path(args.scenario), subjects, args.corpus_size, args.rounds, _options(args),
        args.scenarios,
    )  # fmt: skip
    print(render(figures))
    if args.json:
        Path(args.json).write_text(to_json(figures))
    return 0 if not any(f.failures for f in figures) else 1


def _add_kind_options(parser: argparse.ArgumentParser) -> None:
    """Every registered kind's flags, as pytest has them."""
    parser.add_argument("--backend", choices=BACKENDS, default=None)
    for kind in registry.all_kinds():
        for spec in kind.config_class.specs():
            spec.add_to(parser.add_argument, dest(kind.name, spec))


def cmd_bench_compare(args: argparse.Namespace) -> int:
    from harness.bench.compare import compare_runs, render
    from harness.bench.results import ResultsError, load

    try:
        base, new = load(args.base), load(args.new)
        result = compare_runs(
            base,
            new,
            args.threshold,
            args.alpha,
            args.memory_threshold,
            args.min_seconds,
            args.basis,
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
    extra = ""
    if args.compare:
        from harness.bench.compare_subjects import from_json, html_section

        extra = html_section(from_json(Path(args.compare).read_text()))
    print(f"wrote {write_report(runs, Path(args.output), extra)} ({len(runs)} runs)")
    return 0


def cmd_new_connector(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.scaffold import ScaffoldError, new_connector

    try:
        done = new_connector(Path(args.root), args.name, args.service, args.package)
    except ScaffoldError as exc:
        print(f"harness new connector: {exc}", file=sys.stderr)
        return 2
    print("\n".join(done))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start services; stay up until Ctrl-C")
    up.add_argument("--detach", action="store_true", help="start (or reuse) services and return")
    up.add_argument(
        "--services",
        default=None,
        help="comma-separated kinds to start (default: what the standard scenarios need); "
        "known: " + ", ".join(k.name for k in registry.all_kinds()),
    )
    _add_kind_options(up)
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
        "--basis",
        choices=("cpu", "ceiling"),
        default="ceiling",
        help="judge throughput relative to the same run's ceiling (default; also sees "
        "waiting), or docs per CPU-second of the sync (tight within a run, but a loaded "
        "runner shifts whole runs)",
    )
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
    report.add_argument("--compare", help="a `harness compare-subjects --json` file to include")
    report.set_defaults(func=cmd_report)
    versus = sub.add_parser(
        "compare-subjects", help="the same corpus through several subjects, rounds interleaved"
    )
    versus.add_argument("--subjects", default="cli,elastic", help="comma-separated subjects")
    versus.add_argument("--scenario", default="scenarios/postgres", help="a scenario directory")
    versus.add_argument("--corpus-size", default="medium")
    versus.add_argument("--rounds", type=int, default=3)
    versus.add_argument(
        "--scenarios", action="store_true", help="also run the standard suite per subject"
    )
    versus.add_argument("--json", help="write the figures here too")
    _add_kind_options(versus)
    versus.set_defaults(func=cmd_compare_subjects)
    fetch = sub.add_parser("fetch", help="download and cache the Elasticsearch distribution")
    _add_kind_options(fetch)
    fetch.add_argument(
        "--make-default",
        action="store_true",
        help="make this version the machine's default (read by pytest and `harness up`)",
    )
    fetch.add_argument(
        "--elastic-connectors",
        metavar="VERSION",
        help="a virtualenv with Elastic's connectors framework from the package registry",
    )
    fetch.add_argument(
        "--elastic-connectors-checkout",
        metavar="PATH",
        help="build the virtualenv of a checkout of github.com/elastic/connectors",
    )
    fetch.set_defaults(func=cmd_fetch)
    new = sub.add_parser("new", help="scaffold a new piece").add_subparsers(
        dest="new_command", required=True
    )
    connector = new.add_parser(
        "connector", help="a source, its fixture and its scenarios, registered by entry point"
    )
    connector.add_argument("name", help="the connector's name and service_type (acme_crm)")
    connector.add_argument("--service", required=True, help="the service kind it reads")
    connector.add_argument("--root", default=".", help="the project's root (its pyproject.toml)")
    connector.add_argument(
        "--package", default=None, help="dotted package for the source module (default: "
        "connectors.sources here, project_connectors elsewhere)",
    )  # fmt: skip
    connector.set_defaults(func=cmd_new_connector)
    add_stress_command(sub)
    add_cost_command(sub)
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

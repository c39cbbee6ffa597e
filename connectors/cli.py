"""``connectors``: create connectors, run one-shot syncs, list state, run the service.

Exit code 0 on success; otherwise non-zero with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from connectors import defaults
from connectors.api import ConnectorSpecError, cancel_job, save_connector, sync_connector
from connectors.config import ConfigError
from connectors.es.bulk_transport import HttpBulkTransport
from connectors.es.client import es_client
from connectors.es.rest import EsClient
from connectors.es.retrying import EsUnavailable
from connectors.es.state import ConnectorStore, JobStatus, JobStore, JobType
from connectors.progress import SyncProgress
from connectors.service import ConnectorsService
from connectors.settings import RuntimeSettings


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the exec'd image only;
    ru_maxrss would also count the parent's memory inherited at fork."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class CliError(Exception):
    pass


def _load_file(path: str) -> dict[str, Any]:
    text = Path(path).read_text()
    if path.endswith(".json"):
        data = json.loads(text)
    else:
        import yaml  # only for YAML files: a start-up cost the other commands skip

        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise CliError(f"{path}: expected a mapping at the top level")
    return data


async def _save(es: Es, path: str, out: TextIO) -> str:
    doc = await save_connector(es.client, _load_file(path))
    print(f"connector {doc.id} ({doc.service_type} -> {doc.index_name}) saved", file=out)
    return doc.id


async def cmd_create(es: Es, args: argparse.Namespace) -> int:
    await _save(es, args.config, sys.stdout)
    return 0


async def cmd_sync(es: Es, args: argparse.Namespace) -> int:
    if args.config:  # create or update, then sync: one start-up instead of two
        saved = await _save(es, args.config, sys.stderr)  # stdout keeps the one result line
        if args.connector_id not in (None, saved):
            raise CliError(f"{args.config} is connector {saved!r}, not {args.connector_id!r}")
        args.connector_id = saved
    elif args.connector_id is None:
        raise CliError("sync needs a connector id, or --config FILE to save one and sync it")
    transport = HttpBulkTransport(es.settings.es)
    options = es.settings.sync_options(
        allow_mass_delete=args.allow_mass_delete,
        bulk_concurrency=args.concurrency,
        bulk_transport=transport,
    )
    job_type = (
        JobType.INCREMENTAL
        if args.incremental
        else JobType.ACCESS_CONTROL
        if args.access_control
        else JobType.FULL
    )
    progress = SyncProgress(f"{job_type} sync of {args.connector_id}")
    options.progress = progress.update
    try:
        outcome = await sync_connector(es.client, args.connector_id, job_type, options)
    finally:
        progress.close()
        await transport.close()
    # One result line, whatever happened (the subject result protocol: status, counts of
    # this sync, error); the one-line reason also goes to stderr.
    line: dict[str, Any] = {
        "job_id": outcome.job_id,
        "status": outcome.status,
        "job_type": job_type,
        "error": outcome.error,
    }
    result = outcome.result
    if result is not None:
        line |= {
            "seen": result.seen,
            "indexed": result.indexed,
            "unchanged": result.unchanged,
            "deleted": result.deleted,
            "failed": result.failed,
            "seconds": round(result.seconds, 3),
            "cpu_seconds": round(result.cpu_seconds, 3),
            "docs_per_second": round(result.docs_per_second, 1),
            "bytes_sent": result.bytes_sent,
            "bulk_retries": result.retries,
            "peak_rss_mb": peak_rss_mb(),
        }
    print(json.dumps(line))
    if outcome.status != JobStatus.COMPLETED:
        raise CliError(f"sync job {outcome.job_id} {outcome.status}: {outcome.error}")
    return 0


async def cmd_list(es: Es, _args: argparse.Namespace) -> int:
    for c in await ConnectorStore(es.client).all():
        print(f"{c.id}\t{c.service_type}\t{c.index_name}\t{c.last_sync_status}\t{c.last_synced}")
    return 0


async def cmd_jobs(es: Es, args: argparse.Namespace) -> int:
    for j in await JobStore(es.client).find(args.connector_id):
        print(
            f"{j.id}\t{j.connector.id}\t{j.job_type}\t{j.status}\t"
            f"indexed={j.indexed_document_count}\tdeleted={j.deleted_document_count}\t"
            f"{j.error or ''}"
        )
    return 0


async def cmd_cancel(es: Es, args: argparse.Namespace) -> int:
    status = await cancel_job(es.client, args.job_id)
    if status == JobStatus.CANCELED:
        print(f"job {args.job_id} canceled (it had not started)")
    else:
        print(f"cancelation of job {args.job_id} requested; it stops at its next batch")
    return 0


async def cmd_service(es: Es, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    transport = HttpBulkTransport(es.settings.es)
    try:
        options = es.settings.sync_options(bulk_transport=transport)
        serving = frozenset(args.connectors) if args.connectors else None
        await ConnectorsService(es.client, args.poll_interval, options, serving).run()
    finally:
        await transport.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connectors", description=__doc__)
    parser.add_argument("--es-url", help="Elasticsearch URL (or CONNECTORS_ES_URL)")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create or update a connector from a YAML/JSON file")
    create.add_argument("--config", required=True)
    create.set_defaults(func=cmd_create)
    sync = sub.add_parser("sync", help="run one sync now and print its counts")
    sync.add_argument("connector_id", nargs="?")
    sync.add_argument("--config", help="save this connector (as `create` does), then sync it")
    kind = sync.add_mutually_exclusive_group()
    kind.add_argument("--incremental", action="store_true", help="changes since the last sync")
    kind.add_argument(
        "--access-control",
        action="store_true",
        help="the users' identities, into .search-acl-filter-<index> (document-level security)",
    )
    sync.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="allow deleting more than half of the index",
    )
    sync.add_argument(
        "--concurrency",
        type=int,
        default=defaults.BULK_CONCURRENCY,
        help="concurrent bulk requests",
    )
    sync.set_defaults(func=cmd_sync)
    sub.add_parser("list", help="list connectors").set_defaults(func=cmd_list)
    jobs = sub.add_parser("jobs", help="list sync jobs")
    jobs.add_argument("connector_id", nargs="?")
    jobs.set_defaults(func=cmd_jobs)
    cancel = sub.add_parser(
        "cancel", help="cancel a pending sync job, or ask a running one to stop"
    )
    cancel.add_argument("job_id")
    cancel.set_defaults(func=cmd_cancel)
    service = sub.add_parser("service", help="run scheduled and pending syncs until SIGTERM")
    service.add_argument("--poll-interval", type=float, default=5.0)
    service.add_argument(
        "--connector",
        action="append",
        dest="connectors",
        metavar="ID",
        help="serve only this connector (repeatable); default: every connector in the index",
    )
    service.set_defaults(func=cmd_service)
    return parser


@dataclass(frozen=True)
class Es:
    """What commands reach Elasticsearch with: the client, and the settings it was made
    from (for the bulk transport and the options a sync makes)."""

    client: EsClient
    settings: RuntimeSettings


async def _run(args: argparse.Namespace) -> int:
    settings = RuntimeSettings.from_env(os.environ, args.es_url)  # the one read, here
    client = es_client(settings.es)
    try:
        return int(await args.func(Es(client, settings), args))
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except ConfigError as exc:
        print(f"connectors: {exc}", file=sys.stderr)
        return 2
    except EsUnavailable as exc:  # written for the user: operation, server, cause, fix
        print(f"connectors: {exc}", file=sys.stderr)
        return 1
    except (CliError, ConnectorSpecError, LookupError, ValueError, OSError) as exc:
        print(f"connectors: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(
            f"connectors: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", file=sys.stderr
        )
        return 1
    finally:
        # The work is done and every file closed: the final garbage collection of a
        # process about to exit costs ~50 ms of a 0.4 s command and frees nothing anyone
        # will use. Frozen objects are left to the exit itself.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

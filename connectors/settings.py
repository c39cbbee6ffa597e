"""What the runtime takes from its environment, read once where a process starts (the
CLI's ``main``, or a program calling the API) and passed down as one frozen object.

No other module of the runtime reads ``os.environ``, and nothing is read at import: a
sync run in a process whose environment is shared (a test runner, a service hosting
several syncs) gets exactly the settings it was given, and a setting that is wrong fails
before anything starts, naming the variable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors import defaults
from connectors.es.client import EsSettings
from connectors.es.lease import Timing
from connectors.sync import SyncOptions

FALSE = ("0", "false", "no", "off")
# SyncOptions fields a deployment tunes through the environment: whole numbers above 0.
SYNC_TUNING = {
    "bulk_max_docs": "CONNECTORS_BULK_MAX_DOCS",
    "source_batch": "CONNECTORS_SOURCE_BATCH",
}


class SettingError(ValueError):
    """A variable of the environment holds a value the runtime cannot use."""


@dataclass(frozen=True)
class RuntimeSettings:
    es: EsSettings
    leases: Timing = field(default_factory=Timing)
    source_retry_seconds: float = defaults.SOURCE_RETRY_SECONDS
    sync_tuning: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], es_url: str | None = None) -> RuntimeSettings:
        """``es_url`` (a flag) wins over CONNECTORS_ES_URL; every other setting is a
        CONNECTORS_* variable, or its default."""
        read = _Reader(environ)
        url = es_url or environ.get("CONNECTORS_ES_URL")
        if not url:
            raise SettingError("no Elasticsearch URL: pass --es-url or set CONNECTORS_ES_URL")
        es = EsSettings(
            url=url,
            username=environ.get("CONNECTORS_ES_USERNAME"),
            password=environ.get("CONNECTORS_ES_PASSWORD"),
            api_key=environ.get("CONNECTORS_ES_API_KEY"),
            retry_deadline=read.seconds(
                "CONNECTORS_ES_RETRY_SECONDS", defaults.ES_RETRY_DEADLINE_SECONDS
            ),
            retry_backoff=read.seconds(
                "CONNECTORS_ES_RETRY_BACKOFF_SECONDS", defaults.ES_RETRY_BACKOFF_SECONDS
            ),
            retry_backoff_cap=read.seconds(
                "CONNECTORS_ES_RETRY_BACKOFF_CAP_SECONDS", defaults.ES_RETRY_BACKOFF_CAP_SECONDS
            ),
            request_timeout=read.seconds(
                "CONNECTORS_ES_REQUEST_TIMEOUT", defaults.REQUEST_TIMEOUT_SECONDS
            ),
            ca_certs=environ.get("CONNECTORS_ES_CA_CERTS"),
            verify_certs=environ.get("CONNECTORS_ES_VERIFY_CERTS", "true").lower() not in FALSE,
            client_cert=environ.get("CONNECTORS_ES_CLIENT_CERT"),
            client_key=environ.get("CONNECTORS_ES_CLIENT_KEY"),
        )
        leases = Timing(
            heartbeat_seconds=read.seconds(
                "CONNECTORS_HEARTBEAT_SECONDS", defaults.HEARTBEAT_SECONDS
            ),
            lease_seconds=read.seconds("CONNECTORS_LEASE_SECONDS", defaults.LEASE_SECONDS),
        )
        if leases.heartbeat_seconds >= leases.lease_seconds:
            raise SettingError(
                f"CONNECTORS_HEARTBEAT_SECONDS={leases.heartbeat_seconds:g} must be shorter "
                f"than CONNECTORS_LEASE_SECONDS={leases.lease_seconds:g}: a lease that is not "
                "renewed before it expires gives every running job up for lost"
            )
        tuning = {
            name: number
            for name, variable in SYNC_TUNING.items()
            if (number := read.whole(variable)) is not None
        }
        return cls(
            es=es,
            leases=leases,
            source_retry_seconds=read.seconds(
                "CONNECTORS_SOURCE_RETRY_SECONDS", defaults.SOURCE_RETRY_SECONDS
            ),
            sync_tuning=tuning,
        )

    def sync_options(self, **given: Any) -> SyncOptions:
        """Options for a sync under these settings: the tuned batch sizes, the bulk sink
        retrying as the client does, the lease timing; ``given`` wins over all of them."""
        settled: dict[str, Any] = {
            **self.sync_tuning,
            "bulk_retry_seconds": self.es.retry_deadline,
            "bulk_backoff_seconds": self.es.retry_backoff,
            "bulk_backoff_cap_seconds": self.es.retry_backoff_cap,
            "leases": self.leases,
            "source_retry_seconds": self.source_retry_seconds,
        }
        return SyncOptions(**(settled | given))


@dataclass(frozen=True)
class _Reader:
    values: Mapping[str, str]

    def seconds(self, name: str, default: float) -> float:
        given = self.values.get(name)
        if not given:
            return default
        try:
            value = float(given)
        except ValueError:
            value = -1.0
        if not 0 < value < float("inf"):
            raise SettingError(f"{name}={given!r}: expected a number of seconds above 0")
        return value

    def whole(self, name: str) -> int | None:
        given = self.values.get(name)
        if given is None:
            return None
        if not given.strip().isdigit() or int(given) < 1:
            raise SettingError(f"{name} must be a positive whole number, not {given!r}")
        return int(given)

"""What their framework finds in Elasticsearch and on disk, written by the harness as their
Kibana and their own job API would (the shapes of their ``protocol/connectors.py``): the
connector document, a pending job, and the service's config.yml.

A plain distribution has none of what their service expects around it, so:
* the state indices are written through their aliases' names (their preflight creates the
  concrete ``-v1`` indices it checks for);
* ``feature_use_connectors_api`` is off (no connector API without the ent-search module);
* the connector's pipeline is ``_none``, Elasticsearch's name for no ingest pipeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

DEFAULT_RULE = {
    "id": "DEFAULT", "order": 0, "policy": "include", "field": "_", "rule": "regex",
    "value": ".*", "created_at": "2020-01-01T00:00:00+00:00",
    "updated_at": "2020-01-01T00:00:00+00:00",
}  # fmt: skip
NO_PIPELINE = {
    "name": "_none",
    "extract_binary_content": False,
    "reduce_whitespace": False,
    "run_ml_inference": False,
}
TERMINAL = ("completed", "error", "canceled")
# The state indices as the harness creates them when nothing has yet (Kibana's templates
# would): not dynamic, so no source's configuration values are ever typed; the fields
# either framework filters or sorts on are mapped.
_KEYWORDS = ("id", "status", "service_type", "index_name", "job_type", "trigger_method",
             "last_sync_status", "worker_hostname", "language")  # fmt: skip
_DATES = ("created_at", "started_at", "completed_at", "canceled_at", "last_seen", "last_synced")
STATE_MAPPINGS = {
    "dynamic": False,
    "properties": {
        **{name: {"type": "keyword"} for name in _KEYWORDS},
        **{name: {"type": "date"} for name in _DATES},
        "is_native": {"type": "boolean"},
        "deleted": {"type": "boolean"},
        "connector": {"properties": {"id": {"type": "keyword"},
                                     "service_type": {"type": "keyword"}}},
    },
}  # fmt: skip


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _filter(advanced: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "advanced_snippet": {"value": advanced or {}, "created_at": _now(), "updated_at": _now()},
        "rules": [DEFAULT_RULE],
        "validation": {"state": "valid", "errors": []},
    }


def configuration_values(
    schema: dict[str, Any], values: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Their schema with our values filled in; fields they do not have are left out (the
    shape adapter says which of ours they take)."""
    filled = {}
    for name, field in schema.items():
        entry = dict(field)
        if name in values:
            entry["value"] = values[name]
        else:
            entry.setdefault("value", entry.get("default_value"))
        filled[name] = entry
    return filled


def connector_record(
    connector_id: str,
    service_type: str,
    index_name: str,
    configuration: dict[str, dict[str, Any]],
    advanced_rules: dict[str, Any] | None = None,
) -> dict[str, Any]:
    never = {"enabled": False, "interval": "0 0 0 * * ?"}
    return {
        "id": connector_id,
        "name": connector_id,
        "service_type": service_type,
        "index_name": index_name,
        "configuration": configuration,
        "status": "configured",
        "is_native": False,
        "deleted": False,
        "language": None,
        "pipeline": NO_PIPELINE,
        "scheduling": {"full": never, "incremental": never, "access_control": never},
        "filtering": [
            {
                "domain": "DEFAULT",
                "active": _filter(advanced_rules),
                "draft": _filter(advanced_rules),
            }
        ],
        "features": {
            "sync_rules": {"basic": {"enabled": True}, "advanced": {"enabled": True}},
            "incremental_sync": {"enabled": True},
            "document_level_security": {"enabled": False},
        },
        "custom_scheduling": {},
        "sync_cursor": None,
        "last_sync_status": None,
        "last_access_control_sync_status": None,
        "last_seen": None,
        "api_key_id": None,
        "api_key_secret_id": None,
    }


def job_record(connector: dict[str, Any], job_type: str) -> dict[str, Any]:
    """A pending job, as their SyncJobIndex.create writes it without the connector API."""
    active = connector["filtering"][0]["active"]
    return {
        "connector": {
            "id": connector["id"],
            "filtering": {"advanced_snippet": active["advanced_snippet"], "rules": active["rules"]},
            "index_name": connector["index_name"],
            "language": connector["language"],
            "pipeline": connector["pipeline"],
            "service_type": connector["service_type"],
            "configuration": connector["configuration"],
        },
        "trigger_method": "on_demand",
        "job_type": job_type,
        "status": "pending",
        "indexed_document_count": 0,
        "indexed_document_volume": 0,
        "deleted_document_count": 0,
        "created_at": _now(),
        "last_seen": _now(),
    }


CLEANUP_SECONDS = 10


def service_config(
    es_url: str,
    auth: tuple[str, str] | None,
    connector_id: str,
    service_type: str,
) -> dict[str, Any]:
    """config.yml for one connector: quick to start and to pick a job up, never scheduling
    one of its own. Their clean-up runs often, so that a job left in progress by a killed
    service is ended as soon as their rule allows (5 minutes without a heartbeat): until
    then their service runs no other job of that connector."""
    elasticsearch: dict[str, Any] = {
        "host": es_url,
        "ssl": es_url.startswith("https"),
        "feature_use_connectors_api": False,
        "max_wait_duration": 5,
    }
    if auth:  # without, their default (elastic/changeme) goes to a server that ignores it
        elasticsearch |= {"username": auth[0], "password": auth[1]}
    return {
        "elasticsearch": elasticsearch,
        "service": {
            "idling": 0.5,
            "heartbeat": 2,
            "preflight_idle": 1,
            "preflight_max_attempts": 5,
            "job_cleanup_interval": CLEANUP_SECONDS,
            "log_level": "INFO",
        },
        "connectors": [{"connector_id": connector_id, "service_type": service_type}],
    }

"""Subject ``elastic``: a sync is a pending job their service runs.

Per sync: the state indices and the content index exist (created here, as their Kibana
would), the connector document is written in their shape with our configuration mapped by
the source's shape adapter, a pending job is added, and their service is started with a
config.yml for this one connector. The harness waits for the job to reach a terminal state,
and only then stops the service: a SIGTERM arriving while their job finishes would turn it
into ``suspended``. The job record gives status, counts and error."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from harness import state_index
from harness.checks.index_reader import IndexReader
from harness.environment import HarnessEnvironment
from harness.services.es_http import ElasticsearchEndpoint, EsHttpError, es_request
from harness.services.privileges import current_user
from harness.services.process import ServiceProcess
from harness.subjects import ConnectorSpec, SyncOutcome
from harness.subjects.elastic.framework import ElasticFramework
from harness.subjects.elastic.front import es_front, main_info
from harness.subjects.elastic.launch import launch_service, write_config
from harness.subjects.elastic.records import (
    STATE_MAPPINGS,
    TERMINAL,
    configuration_values,
    connector_record,
    job_record,
)
from harness.subjects.elastic.shapes import ShapedIndexReader, UnsupportedSource, shape_for

CONNECTORS, JOBS = state_index.CONNECTORS, state_index.JOBS
KEPT = ("sync_cursor", "last_sync_status", "last_access_control_sync_status", "last_synced")
POLL_SECONDS = 0.25
RUNNER_DONE = "Sync ended with status"  # their runner's last line for a job (v9.5.x)
RUNNER_GRACE_SECONDS = 30.0
HARNESS_RETRY_SECONDS = 120.0
RETRIED = (429, 502, 503, 504)


class ElasticSubject:
    name = "elastic"
    records_jobs = False  # their job records have their own shape: judged by what they report

    def __init__(self, endpoint: ElasticsearchEndpoint, framework: ElasticFramework) -> None:
        self.endpoint, self.framework = endpoint, framework
        self.env: dict[str, str] = {}
        self._schemas: dict[str, dict[str, Any]] = {}

    def describe(self) -> str:
        return self.framework.describe()

    def index_view(self, reader: IndexReader, spec: ConnectorSpec) -> IndexReader:
        """Their documents, read in our shape (harness/subjects/elastic/shapes.py)."""
        return ShapedIndexReader(reader, shape_for(spec.service_type), spec.configuration)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """The harness's own requests (Kibana's part, and watching the job) go around what
        a fault scenario does to the cluster: retried while it is away or answers 429/5xx."""
        deadline, delay = time.monotonic() + HARNESS_RETRY_SECONDS, 0.2
        while True:
            try:
                return es_request(self.endpoint, method, path, body, timeout=60)
            except EsHttpError as exc:
                if exc.status not in RETRIED or time.monotonic() > deadline:
                    raise
            except OSError:  # refused, reset: a restarting node
                if time.monotonic() > deadline:
                    raise
            time.sleep(delay)  # a backoff between attempts, bounded by the deadline
            delay = min(delay * 2, 2.0)

    def _ensure_index(self, name: str, mappings: dict[str, Any] | None = None) -> None:
        body: dict[str, Any] = {"settings": {"number_of_replicas": 0}}
        if mappings:
            body["mappings"] = mappings
        try:
            self._call("PUT", f"/{name}", body)
        except EsHttpError as exc:
            if "resource_already_exists_exception" not in str(exc):
                raise

    def _save_connector(self, spec: ConnectorSpec) -> dict[str, Any]:
        shape = shape_for(spec.service_type)
        if shape.service_type not in self._schemas:
            schema = self.framework.default_configuration(shape.service_type)
            self._schemas[shape.service_type] = schema
        values = shape.configuration(spec.configuration)
        configuration = configuration_values(self._schemas[shape.service_type], values)
        doc = connector_record(spec.id, shape.service_type, spec.index_name, configuration)
        try:
            previous = self._call("GET", f"/{CONNECTORS}/_doc/{spec.id}")["_source"]
        except EsHttpError:
            previous = {}
        doc |= {key: previous[key] for key in KEPT if key in previous}
        self._call("PUT", f"/{CONNECTORS}/_doc/{spec.id}?refresh=true", doc)
        return doc

    def _prepare(self, spec: ConnectorSpec) -> dict[str, Any]:
        """What Kibana would have done before a job: the indices, and the connector saved."""
        for index in (CONNECTORS, JOBS):
            self._ensure_index(index, STATE_MAPPINGS)
        self._ensure_index(spec.index_name)
        return self._save_connector(spec)

    def start(self, spec: ConnectorSpec, log: IO[str], mode: str = "full") -> subprocess.Popen[str]:
        """A pending job and their service to run it, not waited for: theirs has no
        one-shot sync, so the process a scenario kills is the service mid-job."""
        connector = self._prepare(spec)
        self._call("POST", f"/{JOBS}/_doc?refresh=true", job_record(connector, mode))
        return self._launch(connector, log)

    def start_service(self, spec: ConnectorSpec, log: IO[str]) -> subprocess.Popen[str]:
        return self._launch(self._prepare(spec), log)

    def queue_job(self, spec: ConnectorSpec, job_id: str) -> None:
        """A pending full sync in their shape, as Kibana writes one."""
        connector = self._call("GET", f"/{CONNECTORS}/_doc/{spec.id}")["_source"]
        job = job_record(connector | {"id": spec.id}, "full")
        self._call("PUT", f"/{JOBS}/_doc/{job_id}?refresh=true", job)

    def _launch(self, connector: dict[str, Any], log: IO[str]) -> subprocess.Popen[str]:
        env = {**_base_env(), **self.env}
        main = main_info(self._call)
        return launch_service(self.framework.service, self.endpoint, main, connector, log, env)

    def sync(
        self, spec: ConnectorSpec, mode: str = "full", allow_mass_delete: bool = False
    ) -> SyncOutcome:
        started = time.perf_counter()
        try:
            connector = self._prepare(spec)
        except UnsupportedSource as exc:
            return SyncOutcome(False, "refused", str(exc), {}, time.perf_counter() - started)
        synced_before = connector.get("last_synced")
        created = self._call("POST", f"/{JOBS}/_doc?refresh=true", job_record(connector, mode))
        job_id = created["_id"]
        with tempfile.TemporaryDirectory(prefix="harness-elastic-") as workdir:
            log_path = Path(workdir) / "service.log"
            job, log = self._run(spec, connector, job_id, Path(workdir), log_path, synced_before)
        status = str(job.get("status"))
        error = job.get("error") or (None if status == "completed" else log[-2000:])
        # Their job record, told through the subject result protocol (harness/
        # result_protocol.py), so the job checks judge their counts as they judge ours.
        counts = {
            "status": status,
            "job_type": mode,
            "indexed": job.get("indexed_document_count", 0),
            "deleted": job.get("deleted_document_count", 0),
            "error": error,
            "peak_rss_mb": job.get("peak_rss_mb"),
        }
        return SyncOutcome(
            status == "completed",
            status,
            error,
            counts,
            time.perf_counter() - started,
            reported=True,
            raw=log,
        )

    def _run(
        self,
        spec: ConnectorSpec,
        connector: dict[str, Any],
        job_id: str,
        workdir: Path,
        log_path: Path,
        synced_before: str | None,
    ) -> tuple[dict[str, Any], str]:
        with es_front(self.endpoint, main_info(self._call)) as front_url:
            config_path = write_config(workdir, front_url, self.endpoint, connector)
            service = ServiceProcess(
                "elastic-ingest",
                [str(self.framework.service), "-c", str(config_path)],
                log_path=log_path,
                env={**_base_env(), **self.env},
                user=current_user(),
                cwd=workdir,
            )
            try:
                job = self._wait_for_end(job_id, service)
                if job.get("status") in TERMINAL:
                    self._wait_for_runner(spec.id, synced_before, service, log_path)
                job["peak_rss_mb"] = _peak_rss_mb(service.pid)
            finally:  # only now: their job has ended (or will never)
                service.stop(grace=30, first=signal.SIGTERM)
        return job, log_path.read_text(errors="replace")

    def _wait_for_runner(
        self, connector_id: str, synced_before: str | None, service: ServiceProcess, log: Path
    ) -> None:
        """Their runner writes the job's end first, then the connector's, then logs "Sync
        ended": a SIGTERM in between makes it write ``suspended`` over ``completed`` (seen
        with v9.5.2). So the service is stopped only once the connector has followed and the
        runner has said it ended."""
        deadline = time.monotonic() + RUNNER_GRACE_SECONDS
        while time.monotonic() < deadline and service.alive():
            connector = self._call("GET", f"/{CONNECTORS}/_doc/{connector_id}")["_source"]
            followed = connector.get("last_synced") not in (None, synced_before)
            if followed and RUNNER_DONE in log.read_text(errors="replace"):
                return
            time.sleep(POLL_SECONDS)  # polling a condition, bounded by the deadline

    def _wait_for_end(self, job_id: str, service: ServiceProcess) -> dict[str, Any]:
        job_timeout = HarnessEnvironment.current().elastic_job_timeout
        deadline = time.monotonic() + job_timeout
        while True:
            job: dict[str, Any] = self._call("GET", f"/{JOBS}/_doc/{job_id}")["_source"]
            if job.get("status") in TERMINAL:
                return dict(job)
            if not service.alive():
                return job | {
                    "status": "error",
                    "error": f"their service exited ({service.exit_code()}) before job "
                    f"{job_id} ended (it was {job.get('status')!r}): {service.log_tail(15)}",
                }
            if time.monotonic() > deadline:
                return job | {
                    "status": "error",
                    "error": f"job {job_id} still {job.get('status')!r} after "
                    f"{job_timeout:.0f}s: {service.log_tail(15)}",
                }
            time.sleep(POLL_SECONDS)  # polling the job record: a condition, not a guess


def _peak_rss_mb(pid: int) -> float | None:
    """The service's high-water mark (VmHWM): theirs is one process."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _base_env() -> dict[str, str]:
    """Ours configure our runtime, never theirs; and our package must not shadow theirs."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONNECTORS_") and k not in ("PYTHONPATH", "PYTHONHOME")
    }

"""When a connector's next scheduled sync is due: an interval in seconds, or a five-field
cron expression (minute hour day-of-month month day-of-week; ``*``, ``*/n``, ``a-b``,
``a,b``)."""

from __future__ import annotations

import datetime as dt

RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _field(expr: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in expr.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            start, end = low, high
        elif "-" in body:
            start, end = (int(x) for x in body.split("-", 1))
        else:
            start = end = int(body)
        if not (low <= start <= end <= high) or step < 1:
            raise ValueError(f"cron field {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def parse_cron(expr: str) -> list[set[int]]:
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"cron expression {expr!r} needs 5 fields")
    return [_field(p, lo, hi) for p, (lo, hi) in zip(parts, RANGES, strict=True)]


def matches(fields: list[set[int]], when: dt.datetime) -> bool:
    weekday = (when.weekday() + 1) % 7  # cron: Sunday = 0
    return (
        when.minute in fields[0]
        and when.hour in fields[1]
        and when.day in fields[2]
        and when.month in fields[3]
        and weekday in fields[4]
    )


def next_run(schedule: int | float | str, after: dt.datetime) -> dt.datetime:
    if isinstance(schedule, (int, float)):
        return after + dt.timedelta(seconds=float(schedule))
    fields = parse_cron(schedule)
    candidate = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        if matches(fields, candidate):
            return candidate
        candidate += dt.timedelta(minutes=1)
    raise ValueError(f"cron expression {schedule!r} never fires")


# The job types a schedule may start (connectors.es.state.JobType's values).
JOB_TYPES = ("full", "incremental", "access_control")


def schedule_problems(scheduling: object) -> list[str]:
    """Every problem of a connector's ``scheduling`` (empty: valid). Checked when the
    connector is saved, so that a bad schedule never reaches the service."""
    if scheduling in (None, {}):
        return []
    if not isinstance(scheduling, dict):
        return [f"scheduling must be a mapping of job type to schedule, not {scheduling!r}"]
    problems = []
    for job_type, spec in scheduling.items():
        where = f"scheduling.{job_type}"
        if job_type not in JOB_TYPES:
            problems.append(f"{where}: unknown job type ({', '.join(JOB_TYPES)})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where} must be a mapping with enabled and interval")
            continue
        if not isinstance(spec.get("enabled", False), bool):
            problems.append(f"{where}.enabled must be true or false")
        interval = spec.get("interval")
        if not spec.get("enabled") and interval is None:
            continue
        if isinstance(interval, bool) or not isinstance(interval, (int, float, str)):
            problems.append(f"{where}.interval must be seconds or a cron expression")
        elif isinstance(interval, (int, float)) and interval <= 0:
            problems.append(f"{where}.interval must be more than 0 seconds, not {interval}")
        elif isinstance(interval, str):
            try:
                next_run(interval, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            except ValueError as exc:
                problems.append(
                    f"{where}.interval {interval!r} is not a schedule: {exc} "
                    "(give seconds, or 5 cron fields such as '0 3 * * *')"
                )
    return problems

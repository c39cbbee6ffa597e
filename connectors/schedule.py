"""When a connector's next scheduled sync is due: an interval in seconds, or a five-field
cron expression (minute hour day-of-month month day-of-week; ``*``, ``*/n``, ``a-b``,
``a,b``)."""

from __future__ import annotations

import datetime as dt
import math

RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
# An interval is at least a second and at most a year: beyond that a date overflows, or
# the connector is never synced (and a float such as 1e12 is a typo, not a plan).
MIN_INTERVAL_SECONDS = 1
MAX_INTERVAL_SECONDS = 366 * 24 * 3600
# Days looked ahead for a cron's next time: weekdays repeat on dates every 28 years
# (within 1901-2099), so a day that matches none of these never comes.
CRON_HORIZON_DAYS = 28 * 366


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


def next_run(schedule: object, after: dt.datetime) -> dt.datetime:
    """The first time after ``after`` the schedule fires; ValueError if it cannot be
    computed (an interval out of range, a cron that never fires)."""
    if isinstance(schedule, bool) or not isinstance(schedule, (int, float, str)):
        raise ValueError(f"{schedule!r} is neither seconds nor a cron expression")
    if isinstance(schedule, (int, float)):
        if not math.isfinite(schedule) or not (
            MIN_INTERVAL_SECONDS <= schedule <= MAX_INTERVAL_SECONDS
        ):
            raise ValueError(
                f"{schedule!r} seconds is outside {MIN_INTERVAL_SECONDS}-"
                f"{MAX_INTERVAL_SECONDS} (a second to a year)"
            )
        return after + dt.timedelta(seconds=float(schedule))
    minutes, hours, days, months, weekdays = parse_cron(schedule)
    start = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    day = start.replace(hour=0, minute=0)
    for _ in range(CRON_HORIZON_DAYS):
        if day.day in days and day.month in months and (day.weekday() + 1) % 7 in weekdays:
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    candidate = day.replace(hour=hour, minute=minute)
                    if candidate >= start:
                        return candidate
        day += dt.timedelta(days=1)
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
        for key in spec:
            if key not in ("enabled", "interval"):
                problems.append(f"{where}.{key}: unknown; a schedule has enabled and interval")
        if not isinstance(spec.get("enabled", False), bool):
            problems.append(f"{where}.enabled must be true or false")
        interval = spec.get("interval")
        if not spec.get("enabled") and interval is None:
            continue
        try:
            next_run(interval, dt.datetime.now(dt.UTC))
        except ValueError as exc:
            problems.append(
                f"{where}.interval: {interval!r} is not a schedule: {exc} "
                "(give seconds, or 5 cron fields such as '0 3 * * *')"
            )
    return problems

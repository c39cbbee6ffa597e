"""Advanced rules of the S3 source: which objects a sync takes, by bucket, key prefix,
extension and size (docs/s3.md).

A rule is ``{"bucket"?, "prefix"?, "extensions"?, "min_size"?, "max_size"?}``; an object is
synced when it meets every condition of at least one rule, and every object is when there
are no rules. Rules with prefixes also narrow the listing, so a rule on one folder of a
large bucket lists that folder only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.config import ConfigError

KEYS = ("bucket", "prefix", "extensions", "min_size", "max_size")


@dataclass(frozen=True)
class ObjectRule:
    bucket: str | None = None
    prefix: str = ""
    extensions: frozenset[str] | None = None  # lower case, with the dot; "" for none
    min_size: int = 0
    max_size: int | None = None

    def selects(self, bucket: str, key: str, size: int) -> bool:
        return (
            (self.bucket is None or self.bucket == bucket)
            and key.startswith(self.prefix)
            and (self.extensions is None or extension(key) in self.extensions)
            and self.min_size <= size
            and (self.max_size is None or size <= self.max_size)
        )


def extension(key: str) -> str:
    """``.pdf`` for ``a/b.PDF``; "" for ``a/b`` and for ``a.d/b`` (the name has no dot)."""
    name = key.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def parse_rules(raw: list[Any], buckets: list[str], base: str = "") -> tuple[ObjectRule, ...]:
    """Every problem of every rule at once, each named by its place (``rules[1].prefix``)."""
    problems: list[str] = []
    rules = []
    for i, spec in enumerate(raw):
        where = f"rules[{i}]"
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected an object with {', '.join(KEYS)}, got {spec!r}")
            continue
        found = _problems(where, spec, buckets, base)
        problems += found
        if not found:
            rules.append(_rule(spec))
    if problems:
        raise ConfigError(problems)
    return tuple(rules)


def _problems(where: str, spec: dict[str, Any], buckets: list[str], base: str) -> list[str]:
    problems = [f"{where}.{k}: unknown condition; known: {', '.join(KEYS)}"
                for k in spec if k not in KEYS]  # fmt: skip
    if not spec:
        problems.append(f"{where}: empty; a rule needs at least one of {', '.join(KEYS)}")
    bucket = spec.get("bucket")
    if bucket is not None and bucket not in buckets:
        problems.append(f"{where}.bucket: {bucket!r} is not one of the buckets {buckets}")
    prefix = spec.get("prefix", "")
    if not isinstance(prefix, str):
        problems.append(f"{where}.prefix: expected a string, got {prefix!r}")
    elif not (prefix.startswith(base) or base.startswith(prefix)):
        problems.append(f"{where}.prefix: {prefix!r} is outside the configured prefix "
                        f"{base!r}; it selects nothing")  # fmt: skip
    exts = spec.get("extensions")
    if exts is not None and (
        not isinstance(exts, list) or not exts or not all(isinstance(e, str) for e in exts)
    ):
        problems.append(f'{where}.extensions: expected a list of strings like [".pdf"], '
                        f"got {exts!r}")  # fmt: skip
    for name in ("min_size", "max_size"):
        value = spec.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            problems.append(f"{where}.{name}: expected a size in bytes (an integer >= 0), "
                            f"got {value!r}")  # fmt: skip
    low, high = spec.get("min_size"), spec.get("max_size")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(f"{where}: min_size {low} is above max_size {high}; it selects nothing")
    return problems


def _rule(spec: dict[str, Any]) -> ObjectRule:
    exts = spec.get("extensions")
    return ObjectRule(
        bucket=spec.get("bucket"),
        prefix=spec.get("prefix", ""),
        extensions=None if exts is None else frozenset(_dotted(e) for e in exts),
        min_size=spec.get("min_size") or 0,
        max_size=spec.get("max_size"),
    )


def _dotted(ext: str) -> str:
    ext = ext.strip().lower()
    return ext if not ext or ext.startswith(".") else "." + ext


def listing_prefixes(rules: tuple[ObjectRule, ...], bucket: str, base: str) -> list[str]:
    """The prefixes to list in ``bucket``: ``base`` (the configured prefix) unless every
    rule on the bucket is narrower; none when no rule can select anything there. Sorted
    and not nested, so listing them in turn gives keys in order, each once."""
    if not rules:
        return [base]
    narrowed = []
    for rule in rules:
        if rule.bucket not in (None, bucket):
            continue
        if rule.prefix.startswith(base):
            narrowed.append(rule.prefix)
        elif base.startswith(rule.prefix):
            narrowed.append(base)
    kept: list[str] = []
    for prefix in sorted(set(narrowed)):
        if not kept or not prefix.startswith(kept[-1]):
            kept.append(prefix)
    return kept


def selects(rules: tuple[ObjectRule, ...], bucket: str, key: str, size: int) -> bool:
    return not rules or any(rule.selects(bucket, key, size) for rule in rules)

"""What a refused configuration must say: every bad field named as a field (``port:``,
not merely the echoed value ``'not-a-port'``), the nearest valid name for a misspelt one,
at validation time (before any job), with the CLI's exit code for a bad configuration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.subjects import SyncOutcome

INVALID_CONFIG_EXIT = 2  # `connectors create` / `sync` on a configuration error (README)


def assert_config_refusal(
    outcome: SyncOutcome, fields: Iterable[str], misspellings: Mapping[str, str]
) -> None:
    error = outcome.error or ""
    problems = [f"{f!r} is not named as a field ({f}:)" for f in fields if f"{f}:" not in error]
    for wrong, right in misspellings.items():
        if repr(right) not in error and f'"{right}"' not in error:
            problems.append(f"the misspelt {wrong!r} gets no suggestion of {right!r}")
    if outcome.status != "refused":
        problems.append(
            f"the configuration was not refused when saved (status {outcome.status!r}): "
            "a bad value must be caught by validation, not by a sync"
        )
    if outcome.exit_code is not None and outcome.exit_code != INVALID_CONFIG_EXIT:
        problems.append(f"exit code {outcome.exit_code}, documented: {INVALID_CONFIG_EXIT}")
    assert not problems, "; ".join(problems) + f" -- the error was: {error!r}"

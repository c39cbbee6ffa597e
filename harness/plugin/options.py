"""The run's own settings -- subject, corpus, seed, benchmarks, backend -- as one frozen
config, each read from its command-line option, then its environment variable
(``HARNESS_<NAME>``), then its ``[tool.pytest.ini_options]`` key (``harness_<name>``), then
its default: the order the service kinds' options follow, after pytest-postgresql's. CI
keeps its choices in ``pyproject.toml``; a developer overrides one on the command line."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from harness import defaults
from harness.services.kind import truthy
from harness.services.options import BACKENDS

INI_PREFIX = "harness_"
SIZES = tuple(defaults.CORPUS_SIZES)
SIZE_ROWS = defaults.CORPUS_SIZES.items()


@dataclass(frozen=True)
class Setting:
    name: str  # the option's dest; its ini key is INI_PREFIX + name
    flags: tuple[str, ...]
    help: str
    default: Any
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] = ()
    switch: bool = False  # a flag without a value

    @property
    def ini(self) -> str:
        return INI_PREFIX + self.name

    @property
    def env(self) -> str:
        return INI_PREFIX.upper() + self.name.upper()


SETTINGS = (
    Setting("backend", ("--backend",), "where services come from", "auto", choices=BACKENDS),
    Setting(
        "reuse_services",
        ("--reuse-services", "--keep-services"),
        "keep local services up after the run and attach to them next time",
        False,
        truthy,
        switch=True,
    ),
    Setting(
        "subject",
        ("--subject",),
        "what syncs: cli (the connectors command), inprocess (the runtime API, faster), "
        "elastic[:PATH] (Elastic's framework) or command:TEMPLATE "
        "(with {es_url} {index} {config} {mode})",
        "cli",
    ),
    Setting(
        "corpus_size",
        ("--corpus-size",),
        "rows in scenario corpora: "
        + ", ".join(f"{k}={v}" for k, v in defaults.CORPUS_SIZES.items()),
        "small",
        choices=SIZES,
    ),
    Setting("faults", ("--faults",), "corpus size of the fault scenarios", "tiny", choices=SIZES),
    Setting("seed", ("--seed",), "corpus seed", defaults.CORPUS_SEED, int),
    Setting("bench", ("--bench",), "run the benchmark scenarios", False, truthy, switch=True),
    Setting("bench_rounds", ("--bench-rounds",), "rounds per benchmark (>= 3)", 5, int),
)


@dataclass(frozen=True)
class RunOptions:
    backend: str
    reuse_services: bool
    subject: str
    corpus_size: str
    faults: str
    seed: int
    bench: bool
    bench_rounds: int

    @classmethod
    def resolve(
        cls,
        option: Callable[[str], Any],
        ini: Callable[[str], Any],
        env: Mapping[str, str] | None = None,
    ) -> RunOptions:
        """``option(name)``: the command line's value or None; ``ini(key)``: the ini
        file's text or None. A bad value is refused naming where it came from."""
        environ = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            given, where = option(setting.name), f"{setting.flags[0]}"
            if given is None and environ.get(setting.env):
                given, where = environ[setting.env], f"${setting.env}"
            if given is None:
                given, where = ini(setting.ini), f"{setting.ini} (ini file)"
            values[setting.name] = _parsed(setting, given, where)
        if values["bench_rounds"] < 3:
            raise pytest.UsageError(f"--bench-rounds/{INI_PREFIX}bench_rounds must be >= 3")
        return cls(**values)


def _parsed(setting: Setting, given: Any, where: str) -> Any:
    if given is None or given == "":
        return setting.default
    if not isinstance(given, str):  # already typed by argparse
        return given
    try:
        value = setting.parse(given.strip())
    except ValueError:
        raise pytest.UsageError(f"{where} = {given!r} is not a valid {setting.name}") from None
    if setting.choices and value not in setting.choices:
        raise pytest.UsageError(f"{where} = {given!r}: choose one of {', '.join(setting.choices)}")
    return value


def add_options(group: Any, parser: pytest.Parser) -> None:
    """Each setting as an option of the harness's group and as an ini key. Options default
    to None, so that an ini value is only overridden by what the user typed."""
    for setting in SETTINGS:
        kwargs: dict[str, Any] = {"dest": setting.name, "default": None}
        if setting.switch:
            kwargs["action"] = "store_true"
        elif setting.choices:
            kwargs["choices"] = setting.choices
        if setting.parse is int:
            kwargs["type"] = int
        where = f"env {setting.env}, ini {setting.ini}"
        help_text = f"{setting.help} ({where}; default {setting.default})"
        group.addoption(*setting.flags, help=help_text, **kwargs)
        parser.addini(setting.ini, setting.help, default=None)


RUN_OPTIONS = pytest.StashKey[RunOptions]()


def run_options(config: pytest.Config) -> RunOptions:
    """This run's settings, resolved once at configure time."""
    found = config.stash.get(RUN_OPTIONS, None)
    if found is None:
        found = RunOptions.resolve(lambda name: getattr(config.option, name, None), config.getini)
        config.stash[RUN_OPTIONS] = found
    return found

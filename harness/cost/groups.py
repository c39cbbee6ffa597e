"""Which group a process's CPU is counted in, from its command line.

The groups are the ones a cost question is asked about: the node, each source's server,
our own helper servers, the connector processes under test, and pytest itself.
"""

from __future__ import annotations

import os

PYTEST = "pytest"
CONNECTORS = "connectors"
ELASTICSEARCH = "elasticsearch"


def group_of(name: str, argv: list[str]) -> str:
    """``name`` is the kernel's short name (``comm``), ``argv`` the full command line."""
    joined = " ".join(argv)
    program = os.path.basename(argv[0]) if argv else name
    if (
        "org.elasticsearch" in joined
        or name == ELASTICSEARCH
        or (program in ("java", "controller") and "elasticsearch" in joined)
    ):  # the launcher script, its JVMs (options parser, CLI, server) and their spawn helper
        return ELASTICSEARCH
    if name in ("postgres", "postmaster", "initdb", "pg_ctl") or program in ("postgres", "initdb"):
        return "postgresql"
    if name.startswith(("mariadb", "mysql")) or program.startswith(("mariadb", "mysql")):
        return "mysql"
    if "moto.server" in argv:
        return "s3 (moto)"
    module = _module(argv)
    if module.startswith("harness."):
        return "harness " + module.rsplit(".", 1)[-1]
    if program == CONNECTORS or module == CONNECTORS or module.startswith(CONNECTORS + "."):
        return CONNECTORS
    if program == PYTEST or module == PYTEST or any(a.endswith("/pytest") for a in argv[:2]):
        return PYTEST
    return f"other ({name})"


def _module(argv: list[str]) -> str:
    """The ``-m MODULE`` of a Python command line, or the script a console entry runs."""
    for index, part in enumerate(argv[:-1]):
        if part == "-m":
            return argv[index + 1]
    if len(argv) > 1 and os.path.basename(argv[0]).startswith("python"):
        return os.path.basename(argv[1])
    return ""

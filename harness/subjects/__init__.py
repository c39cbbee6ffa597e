"""What is put under test: anything that syncs a source into an index.

* ``inprocess`` -- the runtime's public API in this process (fast);
* ``cli`` -- the ``connectors`` command as a subprocess (true end to end);
* ``command:TEMPLATE`` -- any command line; ``{es_url}``, ``{index}``, ``{config}`` (a JSON
  file with the connector spec) and ``{mode}`` (full, incremental or access_control) are filled in.

Assertions only look at outcomes (the index, the job record), so any implementation fits.
"""

from harness.subjects.cli import CliSubject
from harness.subjects.command import CommandSubject
from harness.subjects.inprocess import InProcessSubject
from harness.subjects.protocol import (
    ConnectorSpec,
    ProcessSubject,
    ServiceSubject,
    SubjectUnavailable,
    SyncOutcome,
    SyncSubject,
)

__all__ = [
    "CliSubject",
    "CommandSubject",
    "ConnectorSpec",
    "InProcessSubject",
    "ProcessSubject",
    "ServiceSubject",
    "SubjectUnavailable",
    "SyncOutcome",
    "SyncSubject",
]

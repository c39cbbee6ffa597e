"""``python -m connectors``: the CLI run by a known interpreter. The harness starts it this
way, so a test always runs the runtime installed next to it, never whatever ``connectors``
comes first on PATH, and pays no launcher (a pyenv shim costs about 80 ms of CPU a call,
measured with farm-bench)."""

from connectors.cli import main

raise SystemExit(main())

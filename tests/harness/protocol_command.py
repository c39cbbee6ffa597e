"""A sync command that is not a subject the harness knows: it reads the harness's spec
file, runs our `connectors` CLI, and speaks only the subject result protocol. With
PROTOCOL_MISREPORT=1 it reports one indexed document too many (a lying subject)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(es_url: str, config_path: str, mode: str) -> int:
    os.environ["CONNECTORS_ES_URL"] = es_url
    with open(config_path) as handle:
        spec = json.load(handle)
    allow = spec.pop("allow_mass_delete", False)  # the harness's, not a connector key
    connector_path = config_path + ".connector.json"
    with open(connector_path, "w") as handle:
        json.dump(spec, handle)
    try:
        subprocess.run(["connectors", "create", "--config", connector_path], capture_output=True)
    finally:
        os.unlink(connector_path)
    args = ["connectors", "sync", spec["id"]]
    args += ["--incremental"] if mode == "incremental" else []
    args += ["--allow-mass-delete"] if allow else []
    done = subprocess.run(args, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if os.environ.get("PROTOCOL_MISREPORT") and "indexed" in result:
        result["indexed"] += 1
    print("some unrelated output first")
    print(json.dumps(result))
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

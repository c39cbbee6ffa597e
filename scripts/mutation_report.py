"""Per-module mutation score from `mutmut results --all true` (run by scripts/mutation)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict

KILLED = {"killed", "timeout", "segfault"}  # a test (or its time limit) noticed the mutant


def main() -> int:
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], capture_output=True, text=True, check=False
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if "__mutmut_" not in name:
            continue
        module = name.split(".x")[0]
        by_module[module][status.strip()] += 1
    if not by_module:
        print("no mutation results (run scripts/mutation first)", file=sys.stderr)
        return 1
    print(f"{'module':<34} {'mutants':>7} {'killed':>7} {'survived':>8} {'other':>6} {'score':>6}")
    for module, counts in sorted(by_module.items()):
        total = sum(counts.values())
        killed = sum(counts[s] for s in KILLED)
        survived = counts["survived"]
        tested = killed + survived
        score = f"{killed / tested:.0%}" if tested else "-"
        other = total - tested
        print(f"{module:<34} {total:>7} {killed:>7} {survived:>8} {other:>6} {score:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

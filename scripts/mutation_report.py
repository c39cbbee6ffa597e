"""Per-module mutation score from `mutmut results --all true` (run by scripts/mutation).

python3 scripts/mutation_report.py                       # the per-module table
python3 scripts/mutation_report.py --survivors sync      # each survivor and its diff
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict

KILLED = {"killed", "timeout", "segfault"}  # a test (or its time limit) noticed the mutant


def results() -> list[tuple[str, str]]:
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], capture_output=True, text=True, check=False
    ).stdout
    pairs = []
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if "__mutmut_" in name:
            pairs.append((name, status.strip()))
    return pairs


def survivors(pattern: str) -> int:
    """Each survivor whose name contains ``pattern``, with its changed lines: triage input."""
    for name, status in results():
        if status != "survived" or pattern not in name:
            continue
        diff = subprocess.run(["mutmut", "show", name], capture_output=True, text=True).stdout
        changed = [
            line
            for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        print(f"{name}\n  " + "\n  ".join(changed))
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--survivors"]:
        return survivors(sys.argv[2] if len(sys.argv) > 2 else "")
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in results():
        module = name.split(".x")[0]
        by_module[module][status] += 1
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

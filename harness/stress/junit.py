"""What one run said of each test, read from pytest's JUnit XML (written by pytest itself,
so nothing depends on parsing its terminal output)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Outcome:
    test: str  # file::Class::name[params], as pytest names it on the command line
    result: str  # passed, failed (a failure or an error) or skipped
    message: str = ""


def outcomes(path: Path) -> list[Outcome]:
    """Every test case of one run. A file that is missing or cut short (the run was
    killed) yields nothing: the caller reports the run itself as failed."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return []
    found = []
    for case in root.iter("testcase"):
        name = _node_id(case.get("classname", ""), case.get("name", ""), case.get("file"))
        result, message = PASSED, ""
        for child in case:
            if child.tag in ("failure", "error"):
                result = FAILED
                message = (child.get("message") or "") + "\n" + (child.text or "")
                break
            if child.tag == "skipped":
                result = SKIPPED
        found.append(Outcome(name, result, message.strip()))
    return found


def _node_id(classname: str, name: str, file: str | None) -> str:
    """JUnit splits a node id into dotted module.Class and name: put it back together."""
    parts = classname.split(".")
    classes = [part for part in parts if part[:1].isupper()]
    module = "/".join(parts[: len(parts) - len(classes)]) + ".py"
    return "::".join([file or module, *classes, name])

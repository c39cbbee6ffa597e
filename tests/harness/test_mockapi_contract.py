"""The Confluence mock against the shapes of the real API it was modelled on
(contracts/confluence.json): every documented key is there, with the documented JSON type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CONTRACT = json.loads((Path(__file__).parent / "contracts" / "confluence.json").read_text())


def shape_problems(
    expected: Any, got: Any, where: str, nullable: set[str], empty_ok: bool
) -> list[str]:
    if got is None and where.rsplit(".", 1)[-1] in nullable:
        return []
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {type(got).__name__}"]
        problems = []
        for key, value in expected.items():
            if key not in got:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += shape_problems(value, got[key], f"{where}.{key}", nullable, empty_ok)
        return problems
    if isinstance(expected, list):
        if not isinstance(got, list):
            return [f"{where}: expected a list, got {type(got).__name__}"]
        if not got:
            return [] if empty_ok else [f"{where}: empty, so its items' shape is unchecked"]
        return shape_problems(expected[0], got[0], f"{where}[0]", nullable, empty_ok)
    kinds = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}
    wanted = kinds[type(expected)]
    if not isinstance(got, wanted) or (isinstance(got, bool) and bool not in wanted):
        return [f"{where}: expected {type(expected).__name__}, got {got!r}"]
    return []


@pytest.mark.services
@pytest.mark.parametrize("exchange", CONTRACT["exchanges"], ids=lambda e: e["name"])
def test_the_mock_answers_in_the_documented_shape(site, exchange):
    _method, path = exchange["request"].split(" ", 1)
    if "{group}" in path:
        group = site.walk("/wiki/rest/api/group")[0]["id"]
        path = path.replace("{group}", group)
    status, _, body = site.get(path)
    assert status == 200, body
    problems = shape_problems(exchange["response"], body, "response",
                              set(exchange.get("nullable", [])),
                              exchange.get("empty_lists_allowed", False))  # fmt: skip
    if "next" not in exchange["response"].get("_links", {}):
        problems = [p for p in problems if not p.startswith("response._links.next")]
    assert not problems, "\n".join(problems)

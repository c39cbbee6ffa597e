"""Servers that run the harness's own code are reused only by the same code."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.services import code_digest, registry


def test_the_digest_follows_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "server.py").write_text("ANSWER = 1\n")
    monkeypatch.setattr(code_digest, "HARNESS", tmp_path)
    code_digest.harness_code.cache_clear()
    try:
        before = code_digest.harness_code()
        (tmp_path / "server.py").write_text("ANSWER = 2\n")
        code_digest.harness_code.cache_clear()
        assert code_digest.harness_code() != before
    finally:
        code_digest.harness_code.cache_clear()


@pytest.mark.parametrize("name", ["mockapi", "fault_proxy", "extraction", "s3"])
def test_our_servers_reuse_keys_hold_the_code(name: str) -> None:
    kind = registry.kind(name)
    assert code_digest.harness_code() in kind.reuse_key(kind.config_class())

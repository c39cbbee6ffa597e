import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def service_tmpdir(monkeypatch):
    """A HARNESS_TMPDIR the unprivileged service user can traverse (pytest's tmp_path,
    under a 0700 parent when running as root, is not)."""
    path = Path(tempfile.mkdtemp(prefix="harness-test-", dir="/tmp"))
    path.chmod(0o755)
    monkeypatch.setenv("HARNESS_TMPDIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)

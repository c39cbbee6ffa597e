from pathlib import Path

import pytest

from harness.services.base import ServiceError
from harness.services.java import find_jdk, jdk_major, required_java


def make_jdk(root: Path, name: str, version: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    (home / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return home


def test_required_java_follows_the_es_major():
    assert required_java("8.19.21") == 17
    assert required_java("9.5.4") == 21


def test_major_parsing_handles_old_and_new_schemes(tmp_path):
    assert jdk_major(make_jdk(tmp_path, "a", "1.8.0_402")) == 8
    assert jdk_major(make_jdk(tmp_path, "b", "17.0.15")) == 17
    assert jdk_major(make_jdk(tmp_path, "c", "25")) == 25
    assert jdk_major(tmp_path / "missing") is None


def test_es9_picks_the_newest_fitting_jdk(tmp_path):
    make_jdk(tmp_path, "java-17", "17.0.15")
    newest = make_jdk(tmp_path, "temurin-25", "25.0.3")
    make_jdk(tmp_path, "java-21", "21.0.2")
    jdk = find_jdk("9.5.4", environ={}, jvm_dir=tmp_path)
    assert (jdk.home, jdk.major) == (newest, 25)


def test_java_home_wins_when_it_fits(tmp_path):
    make_jdk(tmp_path, "temurin-25", "25.0.3")
    java17 = make_jdk(tmp_path, "java-17", "17.0.15")
    assert find_jdk("8.19.21", environ={"JAVA_HOME": str(java17)}, jvm_dir=tmp_path).home == java17
    # ... but not when the version needs more than it has.
    assert find_jdk("9.5.4", environ={"JAVA_HOME": str(java17)}, jvm_dir=tmp_path).major == 25


def test_too_old_es_java_home_is_a_clear_error(tmp_path):
    java17 = make_jdk(tmp_path, "java-17", "17.0.15")
    with pytest.raises(ServiceError, match=r"ES_JAVA_HOME=.*Java 17.*needs Java >= 21"):
        find_jdk("9.5.4", environ={"ES_JAVA_HOME": str(java17)}, jvm_dir=tmp_path)


def test_no_fitting_jdk_lists_what_was_found(tmp_path):
    make_jdk(tmp_path, "java-17", "17.0.15")
    with pytest.raises(ServiceError, match=r"needs Java >= 21; JDKs found: .*java-17 \(Java 17\)"):
        find_jdk("9.5.4", environ={}, jvm_dir=tmp_path)

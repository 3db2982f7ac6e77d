"""The spark gateway's Java check (olist/java_runtime.py): what `make setup` and `olist run` say
when the JVM PySpark needs is missing or too old."""

from __future__ import annotations

import pytest

from olist.java_runtime import java_version_problem, parse_java_version


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
        ("bash: java: command not found", None),
    ],
)
def test_java_major_version_is_read_from_java_version_output(
    output: str, major: int | None
) -> None:
    assert parse_java_version(output) == major


def test_a_missing_java_is_reported_with_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    problem = java_version_problem()
    assert problem is not None
    assert f"JAVA_HOME={tmp_path} has no bin/java" in problem
    assert "apt-get install openjdk-17-jre-headless" in problem

"""The suite's one hypothesis profile (tests/conftest.py) is the only place its timing and storage are set."""

import ast
from pathlib import Path

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

TESTS = Path(__file__).resolve().parent


def test_the_suite_runs_under_the_one_profile():
    current = hypothesis_settings()
    assert current.deadline is None
    assert current.database is None
    assert HealthCheck.function_scoped_fixture in current.suppress_health_check


def settings_calls_with_own(path: Path) -> list[int]:
    """Lines of `settings(...)` / `hypothesis_settings(...)` calls that pass a deadline, database or health checks."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            own = {keyword.arg for keyword in node.keywords} & {
                "deadline",
                "database",
                "suppress_health_check",
            }
            if name in {"settings", "hypothesis_settings"} and own:
                lines.append(node.lineno)
    return lines


def test_no_test_sets_its_own_deadline_database_or_health_checks():
    offenders = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in TESTS.rglob("*.py")
        if path.name != "conftest.py"
        for line in settings_calls_with_own(path)
    ]
    assert offenders == [], "set it in the profile of tests/conftest.py, not per test"


def test_the_check_finds_a_call_written_over_several_lines(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("@settings(\n    max_examples=5,\n    deadline=None,\n)\ndef f():\n    pass\n")
    assert settings_calls_with_own(sample) == [1]

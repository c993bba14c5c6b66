"""The test suite's own rules: which tier a command line selects, every test in a tier folder, and no test
module importing another (shared code lives in tests/support or tests/fixtures)."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import TESTS, TIER_OF_FOLDER, TIERS, selected_tiers, tier_of

ROOT = TESTS.parent


@pytest.mark.parametrize(
    ("options", "markexpr", "args", "expected"),
    [
        ([], "", [], {"unit"}),  # bare `pytest`
        ([], "", ["tests"], {"unit"}),
        ([], "", ["tests/e2e/test_demo.py::test_demo"], {"e2e"}),
        ([], "", ["tests/chart", "tests/argocd"], {"chart", "lua"}),
        (["integration"], "", [], {"integration"}),
        (["e2e"], "", ["tests/unit/operator"], {"e2e", "unit"}),
        (["all"], "", [], set(TIERS)),
        ([], "e2e and not slow", [], set(TIERS)),
        ([], "", ["-k", "something"], {"unit"}),
    ],
)
def test_the_tiers_a_command_line_selects(
    options: list[str], markexpr: str, args: list[str], expected: set[str]
) -> None:
    assert selected_tiers(options, markexpr, args, ROOT) == expected


def test_a_path_outside_tests_has_no_tier() -> None:
    assert tier_of(ROOT / "operator") is None
    assert tier_of(TESTS) is None
    assert tier_of(TESTS / "support" / "wait.py") is None


def test_every_test_module_is_in_a_tier_folder() -> None:
    for module in TESTS.rglob("test_*.py"):
        assert module.relative_to(TESTS).parts[0] in TIER_OF_FOLDER, f"{module} is in no tier folder"


def test_no_test_module_imports_another() -> None:
    for module in TESTS.rglob("*.py"):
        tree = ast.parse(module.read_text(), str(module))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                last = name.rsplit(".", 1)[-1]
                assert not (name.startswith("tests.") and last.startswith("test_")), (
                    f"{module.relative_to(ROOT)} imports the test module {name}: "
                    "move what it shares to tests/support"
                )

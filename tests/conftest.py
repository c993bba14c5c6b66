"""Shared pytest configuration: the test tiers, and the fixtures (tests/fixtures/, one module per component).

A tier is what a test needs to run, and a test's folder decides its tier (the marker is applied here, so
a module cannot forget it):

=============  ======================  ==============================================================
tier (marker)  folder                  needs
=============  ======================  ==============================================================
unit           tests/unit              nothing but the venv: pure, seconds
chart          tests/chart             helm, built from the helm.sh/helm/v3 Go module (`make binaries`)
lua            tests/argocd            a Lua interpreter (`make system-deps`)
integration    tests/integration       real PostgreSQL/MariaDB servers, the DataGalaxy simulator
e2e            tests/e2e               the local Kubernetes control plane (`make binaries`)
=============  ======================  ==============================================================

A bare `pytest` (or `pytest tests`) runs the unit tier only. Other tiers are opted into with
`--tier=NAME` (repeatable, or `--tier=all`), with a marker expression (`-m e2e`), or by naming their
folder or a file in it (`pytest tests/e2e/test_demo.py`). `make test` runs `--tier=all`. A tier that is
selected and cannot find what it needs fails; it is never skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.control_plane",
    "tests.fixtures.databases",
    "tests.fixtures.simulator",
    "tests.fixtures.operator",
    "tests.fixtures.helm",
]

TESTS = Path(__file__).resolve().parent
UNIT = "unit"
TIER_OF_FOLDER = {
    "unit": UNIT,
    "chart": "chart",
    "argocd": "lua",
    "integration": "integration",
    "e2e": "e2e",
}
TIERS = tuple(dict.fromkeys(TIER_OF_FOLDER.values()))
ALL = "all"

# Fixtures that start or build an external component, and the tiers allowed to use them: a unit test that
# asks for one fails at setup with a message, rather than quietly making the unit tier slow.
HEAVY_FIXTURES = {
    "helm": ("chart", "e2e"),
    "control_plane": ("e2e",),
    "postgres_server": ("integration", "e2e"),
    "mariadb_server": ("integration", "e2e"),
    "datagalaxy_simulator": ("integration", "e2e"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--tier",
        action="append",
        default=[],
        choices=(*TIERS, ALL),
        help="run this test tier as well as the tiers of the paths given (repeatable; 'all' for every "
        "tier). Default: the unit tier only, unless paths or -m say otherwise.",
    )


def tier_of(path: Path) -> str | None:
    """The tier of a test file or folder, None for tests/ itself or anything outside a tier folder."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return TIER_OF_FOLDER.get(parts[0]) if parts else None


def selected_tiers(options: list[str], markexpr: str, args: list[str], cwd: Path) -> set[str]:
    """--tier values, plus the tiers of the paths named on the command line; the unit tier by default.

    With -m (a marker expression) every tier is a candidate and the expression decides.
    """
    chosen = set(options)
    if ALL in chosen or markexpr:
        return set(TIERS)
    for arg in args:
        tier = tier_of(cwd / arg.split("::", 1)[0])
        if tier is not None:
            chosen.add(tier)
    return chosen or {UNIT}


TIERS_KEY = pytest.StashKey[set[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[TIERS_KEY] = selected_tiers(
        config.getoption("tier"), config.getoption("markexpr"), config.args, config.invocation_params.dir
    )


def pytest_report_header(config: pytest.Config) -> str:
    tiers = config.stash[TIERS_KEY]
    others = [tier for tier in TIERS if tier not in tiers]
    hint = (
        f" (not run: {', '.join(others)}; add --tier=NAME or --tier=all, see docs/testing.md)"
        if others
        else ""
    )
    return f"test tiers: {', '.join(tier for tier in TIERS if tier in tiers)}{hint}"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Tiers that are not selected are not even imported: a bare `pytest` loads no e2e module."""
    tier = tier_of(collection_path)
    if tier is not None and tier not in config.stash[TIERS_KEY]:
        return True
    return None


@pytest.hookimpl(tryfirst=True)  # before -m deselects by the markers set here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tiers = config.stash[TIERS_KEY]
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            raise pytest.UsageError(
                f"{item.nodeid}: a test must live in a tier folder ({', '.join(TIER_OF_FOLDER)})"
            )
        item.add_marker(getattr(pytest.mark, tier))
        for fixture, allowed in HEAVY_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()) and tier not in allowed:
                raise pytest.UsageError(
                    f"{item.nodeid} is in the {tier} tier but uses the `{fixture}` fixture "
                    f"(allowed in: {', '.join(allowed)}): move it to the right tier folder"
                )
        (keep if tier in tiers else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """A skipped test is a failed one: a tier that lacks a component must say so, not pass quietly."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, which this project treats as a failure (nothing is skipped): {reason}"
    return None

"""Shared pytest configuration: fixtures live in tests/fixtures/, one module per component."""

pytest_plugins = [
    "tests.fixtures.control_plane",
    "tests.fixtures.databases",
    "tests.fixtures.simulator",
    "tests.fixtures.operator",
    "tests.fixtures.helm",
]

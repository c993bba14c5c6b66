"""A DataGalaxy API simulator: the documented `/v2` routes, limits and errors, plus switchable faults.

Start it with `SimulatorServer` (in a thread or as a subprocess) or `python -m connector_testbed.simulator
serve`. Its state is an SQLite file; `python -m connector_testbed.simulator show` prints what was imported.
"""

from connector_testbed.simulator.faults import Faults, Limits
from connector_testbed.simulator.seed import (
    LEGACY_TOKEN,
    NO_ACCESS_TOKEN,
    REVOKED_TOKEN,
    VALID_TOKEN,
    Seed,
    TokenSeed,
    WorkspaceSeed,
)
from connector_testbed.simulator.server import SimulatorServer
from connector_testbed.simulator.show import render_tree

__all__ = [
    "LEGACY_TOKEN",
    "NO_ACCESS_TOKEN",
    "REVOKED_TOKEN",
    "VALID_TOKEN",
    "Faults",
    "Limits",
    "Seed",
    "SimulatorServer",
    "TokenSeed",
    "WorkspaceSeed",
    "render_tree",
]

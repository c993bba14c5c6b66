"""Which SQLAlchemy dialect and Python driver each technology uses, and whether the driver is installed.

A missing driver is a `DriverMissing` failure with the pip extra that brings it, found before any
connection attempt so that the message is about the image, not about the network.
"""

from __future__ import annotations

import importlib.util

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.profiles import PROFILES, Profile

# A technology's driver is part of its profile (`profiles`); these names stay for the callers.
Driver = Profile
DRIVERS: dict[str, Driver] = PROFILES


def driver_for(technology: str) -> Driver:
    try:
        return DRIVERS[technology]
    except KeyError:
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION, f"Unknown source technology {technology!r}"
        ) from None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(driver: Driver) -> list[str]:
    return [m for m in driver.modules if not _installed(m)]


def require_driver(technology: str) -> Driver:
    """The driver of `technology`, or `DriverMissing` naming the modules and the extra to install."""
    driver = driver_for(technology)
    missing = missing_modules(driver)
    if missing:
        hint = (
            f"Use an extractor image built with the '{driver.extra}' extra "
            f"(pip install 'online-connector[{driver.extra}]')."
            if driver.extra
            else None
        )
        raise ConnectorError(
            ErrorCategory.DRIVER_MISSING,
            f"The {driver.label} driver is not installed in this image (missing: {', '.join(missing)}).",
            hint,
        )
    return driver

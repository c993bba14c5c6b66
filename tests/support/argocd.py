"""The Argo CD samples in docs/argocd: the health check run by a real Lua interpreter, the way Argo CD
runs it (`obj` is a global), and the sample Applications.

Shared by the Lua tier (tests/argocd), the chart tier and the e2e tier (which checks the health of a live
OnlineConnection), so it lives here rather than in one tier's test modules."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HEALTH_LUA = ROOT / "docs" / "argocd" / "health.lua"
APPLICATION = ROOT / "docs" / "argocd" / "application.yaml"
INTERPRETERS = ("lua5.4", "lua5.3", "lua5.1", "lua")


def lua_interpreter() -> str:
    for name in INTERPRETERS:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("no Lua interpreter found: run scripts/install-system-deps.sh (installs lua5.4)")


def lua_string(text: str) -> str:
    """A double-quoted Lua 5.1 string literal: UTF-8 as is, control characters as decimal escapes."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\{ord(char):03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def to_lua(value: Any) -> str:
    """A Lua literal for a JSON-like value (None becomes nil, as a missing key does in Argo CD)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        assert math.isfinite(value)
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list | tuple):
        return "{" + ", ".join(to_lua(item) for item in value) + "}"
    if isinstance(value, dict):
        items = [f"[{to_lua(str(key))}] = {to_lua(item)}" for key, item in value.items() if item is not None]
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot express {type(value).__name__} in Lua")


HARNESS = """
obj = {obj}
local chunk = assert(loadfile({script}))
local hs = chunk()
assert(type(hs) == "table", "the health script must return a table")
io.write(tostring(hs.status), "\\n", tostring(hs.message), "\\n")
"""


def run_health(obj: dict[str, Any], script: Path = HEALTH_LUA) -> tuple[str, str]:
    """(status, message) that the health script returns for `obj`."""
    program = HARNESS.format(obj=to_lua(obj), script=to_lua(str(script)))
    result = subprocess.run(
        [lua_interpreter(), "-"], input=program, capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, f"lua failed: {result.stderr}"
    status, message = result.stdout.split("\n", 1)
    return status, message.rstrip("\n")


def applications() -> list[dict[str, Any]]:
    """The sample Argo CD Applications (docs/argocd/application.yaml), checked to be Applications."""
    docs: list[dict[str, Any]] = [doc for doc in yaml.safe_load_all(APPLICATION.read_text()) if doc]
    assert all(doc["apiVersion"] == "argoproj.io/v1alpha1" for doc in docs)
    assert all(doc["kind"] == "Application" for doc in docs)
    return docs

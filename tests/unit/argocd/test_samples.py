"""The Argo CD samples, read as files: sync options of the Applications, Lua 5.1 syntax of the health
check, and the Lua literals the Lua tier feeds it (no interpreter needed here)."""

from __future__ import annotations

import re

from tests.support.argocd import HEALTH_LUA, applications, to_lua


def test_server_side_apply_and_self_heal() -> None:
    for app in applications():
        policy = app["spec"]["syncPolicy"]
        assert "ServerSideApply=true" in policy["syncOptions"]
        assert policy["automated"]["selfHeal"] is True
        assert "ignoreDifferences" not in app["spec"], "the operator causes no drift to ignore"


def test_the_script_uses_only_lua_5_1_syntax() -> None:
    # Argo CD runs health checks with gopher-lua (Lua 5.1): no goto, integer division, attributes or bit ops.
    code = "\n".join(line.split("--", 1)[0] for line in HEALTH_LUA.read_text().splitlines())
    for construct in (r"\bgoto\b", r"//", r"<const>", r"<close>", r"::\w+::", r"[^~=<>]=?[&|]", r"<<|>>"):
        assert not re.search(construct, code), f"Lua 5.2+ construct {construct!r} in health.lua"


def test_to_lua_escapes() -> None:
    assert to_lua({"a": [1, True, None, 'x"y']}) == '{["a"] = {1, true, nil, "x\\"y"}}'

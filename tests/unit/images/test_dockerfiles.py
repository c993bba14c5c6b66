"""The Dockerfiles, checked statically (docker is not available here): multi-stage, slim, non-root
numeric user, no build tools in the final stage, drivers chosen by build argument."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
IMAGES = ROOT / "images"
OPERATOR = IMAGES / "operator.Dockerfile"
EXTRACTOR = IMAGES / "extractor.Dockerfile"
BUILD_TOOLS = re.compile(r"\b(apt-get|apk|yum|dnf|gcc|g\+\+|make|build-essential|pip\s+install|curl|wget)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def parse(path: Path) -> Dockerfile:
    text = path.read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    logical = re.sub(r"\\\n", " ", "\n".join(lines))
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in logical.splitlines():
        line = raw.strip()
        if not line:
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = " ".join(args.split())
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+ )?(\S+)(?: AS (\S+))?", args, re.IGNORECASE)
            assert match, f"cannot parse FROM {args}"
            stages.append(Stage(match.group(1), match.group(2)))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = args.partition("=")
            global_args[name] = default
        else:
            stages[-1].instructions.append((keyword, args))
    return Dockerfile(global_args, stages)


@pytest.fixture(params=[OPERATOR, EXTRACTOR], ids=["operator", "extractor"])
def dockerfile(request: pytest.FixtureRequest) -> Dockerfile:
    path: Path = request.param
    assert path.exists(), f"{path} is missing"
    return parse(path)


def test_multi_stage_on_a_slim_python_base(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 2
    base = dockerfile.global_args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base
    for stage in dockerfile.stages:
        assert stage.base == "${PYTHON_IMAGE}"
        assert ":latest" not in stage.base


def test_final_stage_runs_as_numeric_non_root_user(dockerfile: Dockerfile) -> None:
    users = dockerfile.final.all("USER")
    assert users, "the final stage sets no USER"
    assert re.fullmatch(r"65532(:65532)?", users[-1]), users[-1]
    # USER comes after every RUN, so nothing later runs as root.
    kinds = [kw for kw, _ in dockerfile.final.instructions]
    assert kinds.index("USER") > max(i for i, kw in enumerate(kinds) if kw == "RUN")


def test_chart_security_context_matches_the_image_user() -> None:
    import yaml

    values = yaml.safe_load((ROOT / "charts" / "online-connector" / "values.yaml").read_text())
    assert values["securityContext"]["runAsUser"] == 65532
    assert values["podSecurityContext"]["runAsUser"] == 65532


def test_no_build_tools_in_the_final_stage(dockerfile: Dockerfile) -> None:
    for command in dockerfile.final.all("RUN"):
        assert not BUILD_TOOLS.search(command), f"build tooling in the final stage: {command}"
        assert "pip uninstall" in command
    for copy in dockerfile.final.all("COPY"):
        assert copy.startswith("--from=build "), f"the final stage copies from the build context: {copy}"
    assert not dockerfile.final.all("ADD")


def test_build_stage_removes_pip_and_the_testbed(dockerfile: Dockerfile) -> None:
    run = " ".join(dockerfile.stages[0].all("RUN"))
    assert "pip uninstall --yes pip setuptools wheel" in run
    assert "connector_testbed" in run


def test_entrypoints_are_exec_form_console_scripts() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    operator = parse(OPERATOR).final.all("ENTRYPOINT")
    extractor = parse(EXTRACTOR).final.all("ENTRYPOINT")
    assert json.loads(operator[-1]) == ["online-connector"]
    assert json.loads(extractor[-1]) == ["online-connector-extract"]
    assert {"online-connector", "online-connector-extract"} <= set(scripts)


def test_extractor_drivers_are_build_arguments_naming_real_extras() -> None:
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    build = parse(EXTRACTOR).stages[0]
    drivers = dict(arg.partition("=")[::2] for arg in build.all("ARG"))["DRIVERS"]
    assert set(drivers.split(",")) <= extras
    assert any('".[${DRIVERS}]"' in run for run in build.all("RUN"))
    # Only the extractor carries database drivers.
    assert not any("DRIVERS" in run for run in parse(OPERATOR).stages[0].all("RUN"))


def test_extractor_image_does_not_carry_the_operator() -> None:
    run = " ".join(parse(EXTRACTOR).stages[0].all("RUN"))
    assert "site-packages/connector_operator" in run


@pytest.mark.parametrize("name", ["operator", "extractor"])
def test_a_dockerignore_keeps_the_context_small(name: str) -> None:
    ignore = (IMAGES / f"{name}.Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore  # everything is excluded, then the sources are let back in
    assert {"!pyproject.toml", "!operator/", "!extractors/"} <= set(ignore)

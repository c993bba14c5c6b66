"""The Dockerfiles and the packaging they rely on, checked statically (the images themselves are built
and run by tests/e2e/test_real_node_images.py): multi-stage on a base given as a build argument, wheels
from a wheelhouse with pinned versions, numeric non-root user, no pip or compiler in the final stage, OCI
labels, one extra per image, the testbed out of the wheel."""

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


def test_multi_stage_on_a_base_given_as_build_argument(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 2
    base = dockerfile.global_args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base
    for stage in dockerfile.stages:
        assert stage.base == "${PYTHON_IMAGE}"


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


def test_no_build_tools_and_no_pip_in_the_final_stage(dockerfile: Dockerfile) -> None:
    runs = dockerfile.final.all("RUN")
    for command in runs:
        assert not BUILD_TOOLS.search(command), f"build tooling in the final stage: {command}"
    removed = " ".join(runs)
    assert "site-packages/pip" in removed
    assert "/usr/local/bin/pip" in removed
    for copy in dockerfile.final.all("COPY"):
        assert copy.startswith("--from=build "), f"the final stage copies from the build context: {copy}"
    assert not dockerfile.final.all("ADD")


def test_build_stage_installs_pinned_wheels_without_an_index(dockerfile: Dockerfile) -> None:
    run = " ".join(dockerfile.stages[0].all("RUN"))
    assert "venv --without-pip" in run  # pip runs from its wheel and is never installed
    for option in ("--no-index", "--find-links /wheels", "--constraint /constraints.txt", "--only-binary"):
        assert option in run
    assert {"wheels /wheels", "constraints.txt /constraints.txt"} <= set(dockerfile.stages[0].all("COPY"))


def test_oci_labels(dockerfile: Dockerfile) -> None:
    labels = " ".join(dockerfile.final.all("LABEL"))
    for key in ("title", "description", "source", "licenses", "version", "revision", "base.name"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_entrypoints_are_exec_form_console_scripts() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    operator = parse(OPERATOR).final.all("ENTRYPOINT")
    extractor = parse(EXTRACTOR).final.all("ENTRYPOINT")
    assert json.loads(operator[-1]) == ["online-connector"]
    assert json.loads(extractor[-1]) == ["online-connector-extract"]
    assert {"online-connector", "online-connector-extract"} <= set(scripts)


def test_each_image_installs_its_own_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    build = parse(EXTRACTOR).stages[0]
    default = dict(arg.partition("=")[::2] for arg in build.all("ARG"))["EXTRAS"]
    assert set(default.split(",")) <= set(extras)
    assert any('"online-connector[${EXTRAS}]==${VERSION}"' in run for run in build.all("RUN"))
    assert any(
        '"online-connector[operator]==${VERSION}"' in run for run in parse(OPERATOR).stages[0].all("RUN")
    )
    # Only the extractor carries SQLAlchemy and the drivers; only the operator carries kopf.
    names = {extra: " ".join(extras[extra]).lower() for extra in ("operator", "extractor")}
    assert "kopf" in names["operator"]
    assert "sqlalchemy" not in names["operator"]
    assert "sqlalchemy" in names["extractor"]
    assert "kopf" not in names["extractor"]
    assert "postgresql,mysql,duckdb" in names["extractor"]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_constraints_pin_every_direct_dependency_of_the_images() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [
        line for line in (IMAGES / "constraints.txt").read_text().splitlines() if line and line[0] != "#"
    ]
    pins = dict(line.split("==") for line in lines)
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version) for version in pins.values())
    pinned = {_normalise(name) for name in pins}
    extras = project["optional-dependencies"]
    for requirement in [
        *project["dependencies"],
        *extras["operator"],
        *extras["extractor"],
        *extras["postgresql"],
        *extras["mysql"],
        *extras["duckdb"],
    ]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None
        if name.group() != "online-connector":
            assert _normalise(name.group()) in pinned, (
                f"{requirement} is not pinned in images/constraints.txt"
            )
    assert "pip" in pinned  # the pip that installs inside the build


def test_the_testbed_stays_out_of_the_wheel_and_packages_are_typed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert packages == ["operator/connector_operator", "extractors/connector_extractors"]
    for package in (*packages, "testbed/connector_testbed"):
        assert (ROOT / package / "py.typed").exists()
    assert "pytest>=8" in config["dependency-groups"]["dev"]
    assert "dev" not in config["project"]["optional-dependencies"]

"""The built images hold what they claim: drivers in the extractor, entry points that run as the
non-root user 65532 on a read-only root filesystem without capabilities, no pip and no compiler."""

from __future__ import annotations

import json
import subprocess

import pytest

from connector_testbed.images import Images, docker_run, ensure_images

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def images() -> Images:
    return ensure_images()


def _locked_down(image: str, *args: str, entrypoint: str | None = None) -> str:
    """As the chart runs it: read-only root, no capabilities, no new privileges, /tmp writable."""
    command = ["docker", "run", "--rm", "--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges"]
    command += ["--tmpfs=/tmp"]
    if entrypoint is not None:
        command += ["--entrypoint", entrypoint]
    result = subprocess.run([*command, image, *args], capture_output=True, text=True, check=True, timeout=120)
    return result.stdout


def test_extractor_holds_its_drivers(images: Images) -> None:
    probe = (
        "import sqlalchemy, psycopg, pymysql, duckdb, duckdb_engine\n"
        "from sqlalchemy import create_engine\n"
        "e = create_engine('duckdb:///:memory:')\n"
        "with e.connect() as c: print(c.exec_driver_sql('select 41 + 1').scalar())\n"
        "for url in ('postgresql+psycopg://u@h/d', 'mysql+pymysql://u@h/d', 'mariadb+pymysql://u@h/d'):\n"
        "    print(create_engine(url).dialect.driver)\n"
    )
    out = _locked_down(images.extractor, "-c", probe, entrypoint="python")
    assert out.split() == ["42", "psycopg", "pymysql", "pymysql"]


def test_extractor_entry_point_runs_as_the_non_root_user(images: Images) -> None:
    assert "usage: online-connector-extract" in _locked_down(images.extractor, "--help")
    assert _locked_down(images.extractor, "-u", entrypoint="id").strip() == "65532"
    inspect = subprocess.run(
        ["docker", "image", "inspect", images.extractor], capture_output=True, text=True, check=True
    )
    config = json.loads(inspect.stdout)[0]["Config"]
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["online-connector-extract"]
    assert config["Labels"]["org.opencontainers.image.title"] == "online-connector-extractor"
    assert config["Labels"]["org.opencontainers.image.version"]


def test_operator_entry_point_runs_and_carries_no_drivers(images: Images) -> None:
    assert "usage: online-connector" in _locked_down(images.operator, "--help")
    probe = (
        "import importlib.util as u\n"
        "import connector_operator.handlers\n"
        "names = ('kopf', 'sqlalchemy', 'psycopg', 'duckdb', 'connector_testbed')\n"
        "print([m for m in names if u.find_spec(m)])"
    )
    assert _locked_down(images.operator, "-c", probe, entrypoint="python").strip() == "['kopf']"


@pytest.mark.parametrize("which", ["operator", "extractor"])
def test_no_pip_and_no_compiler_in_the_images(images: Images, which: str) -> None:
    image = getattr(images, which)
    script = "for t in pip pip3 gcc cc c++ make; do command -v $t; done; python3 -m pip 2>&1 | tail -1"
    out = docker_run(image, "-c", script + "; true", entrypoint="sh")
    assert out.strip().splitlines() == ["/opt/venv/bin/python3: No module named pip"]
    assert "connector_testbed" not in docker_run(
        image, "-c", "import pkgutil;print([m.name for m in pkgutil.iter_modules()])", entrypoint="python"
    )


@pytest.mark.parametrize("which", ["operator", "extractor"])
def test_the_numeric_user_has_a_name(images: Images, which: str) -> None:
    """kopf identifies itself with getpass.getuser(), which fails for a user missing from /etc/passwd."""
    probe = "import getpass, os; print(os.getuid(), getpass.getuser())"
    assert _locked_down(getattr(images, which), "-c", probe, entrypoint="python").split() == [
        "65532",
        "nonroot",
    ]

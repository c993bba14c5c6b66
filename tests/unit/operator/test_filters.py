"""Schema and table filters are regular expressions; a bad one is InvalidSpec that names the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from connector_operator import models
from connector_operator.secrets_check import describe_validation_error

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "onlineconnection.yaml"


def spec_with(exclude: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SAMPLE.read_text())["spec"]
    spec["filters"]["tables"]["exclude"] = exclude
    return spec


def test_regular_expressions_are_accepted() -> None:
    parsed = models.OnlineConnectionSpec.model_validate(spec_with([".*_tmp", "audit_[0-9]{4}"]))
    assert parsed.filters.tables.exclude == [".*_tmp", "audit_[0-9]{4}"]


def test_a_glob_is_not_a_regular_expression() -> None:
    with pytest.raises(ValidationError) as caught:
        models.OnlineConnectionSpec.model_validate(spec_with(["*_tmp"]))
    message = describe_validation_error(caught.value)
    assert "spec.filters.tables.exclude" in message
    assert "invalid regular expression '*_tmp'" in message

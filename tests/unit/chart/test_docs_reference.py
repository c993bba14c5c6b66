"""The configuration references in the docs are generated, and must not go stale."""

from __future__ import annotations

from connector_operator import values_reference as ref

FIX = "run `make crds` (python -m connector_operator.crd_generate --write)"


def test_installation_guide_has_the_current_values_reference() -> None:
    text = ref.INSTALLATION.read_text()
    assert ref.installation_with_reference(text) == text, f"docs/installation.md is stale: {FIX}"


def test_every_value_is_documented() -> None:
    table = ref.values_reference()
    for line in table.splitlines()[2:]:
        description = line.rstrip("|").rsplit("|", 1)[-1].strip()
        assert description, f"no description in values.schema.json for {line.split('|')[1].strip()}"

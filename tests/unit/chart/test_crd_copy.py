"""The chart ships the generated CRD unchanged: a stale copy in crds/ would install an old schema."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GENERATED = ROOT / "crds" / "onlineconnections.yaml"
CHART_COPY = ROOT / "charts" / "online-connector" / "crds" / "onlineconnections.yaml"


def test_the_chart_crd_is_an_identical_copy_of_the_generated_one() -> None:
    assert GENERATED.exists(), f"{GENERATED} is missing: run `make crds`"
    assert CHART_COPY.exists(), f"{CHART_COPY} is missing: cp {GENERATED} {CHART_COPY}"
    assert CHART_COPY.read_bytes() == GENERATED.read_bytes(), (
        f"{CHART_COPY.relative_to(ROOT)} differs from {GENERATED.relative_to(ROOT)}: "
        f"after `make crds`, run `cp {GENERATED.relative_to(ROOT)} {CHART_COPY.relative_to(ROOT)}`"
    )


def test_the_chart_crds_folder_holds_only_that_crd() -> None:
    assert sorted(p.name for p in CHART_COPY.parent.iterdir()) == ["onlineconnections.yaml"]

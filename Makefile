# The two commands of the README: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv system-deps binaries images lint unit chart lua integration e2e crds bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[operator,extractor,sqlserver,oracle,redshift]' --group dev
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh
	bash scripts/install-container-runtime.sh

images: venv
	bash scripts/build-images.sh

binaries: venv
	$(PY) -m connector_testbed build

crds: venv
	$(PY) -m connector_operator.crd_generate --write

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check operator extractors testbed tests bench
	$(VENV)/bin/mypy operator/connector_operator extractors/connector_extractors testbed/connector_testbed tests bench
	$(VENV)/bin/lint-imports

# Test tiers (tests/conftest.py): a bare `pytest` is the unit tier; the others are opted into by --tier.
unit: venv
	$(PY) -m pytest -q

chart: venv binaries
	$(PY) -m pytest --tier=chart -q

lua: venv system-deps
	$(PY) -m pytest --tier=lua -q

integration: venv system-deps
	$(PY) -m pytest --tier=integration -q

e2e: venv system-deps binaries
	$(PY) -m pytest --tier=e2e -q

# Every tier in one session; a component that is missing fails its tests (nothing is skipped).
test: venv system-deps binaries lint
	$(PY) -m pytest --tier=all -q

demo: venv system-deps binaries
	$(PY) -m connector_testbed demo

bench: venv system-deps binaries
	$(PY) bench/extract.py && $(PY) bench/push.py && $(PY) bench/operator_scale.py

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache .pytest_cache

#!/usr/bin/env bash
# Writes images/constraints.txt: the exact version of every package that the two images install
# (the `operator` and `extractor` extras, resolved together so that both images agree), plus the pip
# that installs them inside the build. `make images` downloads exactly these versions into its
# wheelhouse and the Dockerfiles install with `--constraint`, so an image build never picks up a new
# release by surprise. Re-run after changing dependencies in pyproject.toml, then commit the result.
# Usage: lock-image-deps.sh [PYTHON]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
out=images/constraints.txt
report=$(mktemp); trap 'rm -f "$report"' EXIT
"$PY" -m pip install --quiet --dry-run --ignore-installed --report "$report" '.[operator,extractor]'
pip_version=$("$PY" -m pip --version | awk '{print $2}')
{
  echo "# Pinned versions for the images (written by scripts/lock-image-deps.sh; do not edit by hand)."
  "$PY" - "$report" <<'PYTHON'
import json
import sys

report = json.load(open(sys.argv[1]))
pins = sorted(
    (item["metadata"]["name"], item["metadata"]["version"])
    for item in report["install"]
    if item["metadata"]["name"] != "online-connector"
)
for name, version in pins:
    print(f"{name}=={version}")
PYTHON
  echo "pip==$pip_version"
} > "$out"
echo "wrote $out ($(grep -c '==' "$out") pins)"

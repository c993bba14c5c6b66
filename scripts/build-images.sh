#!/usr/bin/env bash
# `make images`: builds online-connector-operator and online-connector-extractor from images/*.Dockerfile.
#  1. the container runtime (scripts/install-container-runtime.sh: docker.io, started if needed);
#  2. the base image: $PYTHON_IMAGE when given (e.g. python:3.12-slim-bookworm where a registry is
#     reachable), else the Debian-made one of scripts/make-base-image.sh;
#  3. a wheelhouse for the base's Python version and platform: the pinned versions of
#     images/constraints.txt, downloaded once into ~/.cache/online-connector/wheelhouse/<python>-<hash>/,
#     plus the project's own wheel built from the work tree;
#  4. `docker build` with a build context holding only the wheels and the constraints.
# A second run reuses the base, the wheelhouse and docker's layer cache: seconds.
# Environment: PYTHON_IMAGE, IMAGE_PREFIX (default online-connector-), IMAGE_TAG (default: the version).
set -euo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
say() { echo "[images +$(( $(date +%s) - START ))s] $*" >&2; }
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
CACHE=${ONLINE_CONNECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/online-connector}
VERSION=$("$PY" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
TAG=${IMAGE_TAG:-$VERSION}
PREFIX=${IMAGE_PREFIX:-online-connector-}
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

bash scripts/install-container-runtime.sh >&2
BASE=${PYTHON_IMAGE:-$(bash scripts/make-base-image.sh)}
docker image inspect "$BASE" >/dev/null 2>&1 || docker pull "$BASE" >&2
read -r PYVER PLATFORM < <(docker run --rm --entrypoint python3 "$BASE" -c \
  'import sys,platform;print(f"{sys.version_info[0]}.{sys.version_info[1]}", platform.machine())')
say "base $BASE (Python $PYVER, $PLATFORM)"

# Pinned dependencies: downloaded once per (Python, platform, constraints) and kept.
lock_hash=$(sha256sum images/constraints.txt | cut -c1-12)
WHEELHOUSE="$CACHE/wheelhouse/cp${PYVER/./}-$PLATFORM-$lock_hash"
if [ ! -f "$WHEELHOUSE/.complete" ]; then
  say "downloading pinned wheels for Python $PYVER/$PLATFORM into $WHEELHOUSE"
  rm -rf "$WHEELHOUSE"; mkdir -p "$WHEELHOUSE"
  # Every manylinux tag up to glibc 2.36 (Debian bookworm): pip does not widen a --platform itself.
  platforms=()
  for minor in $(seq 5 36); do platforms+=(--platform "manylinux_2_${minor}_$PLATFORM"); done
  platforms+=(--platform "manylinux2014_$PLATFORM" --platform "manylinux2010_$PLATFORM" --platform "manylinux1_$PLATFORM")
  grep -v '^#' images/constraints.txt | "$PY" -m pip download --quiet --no-deps --only-binary :all: \
    --python-version "$PYVER" --implementation cp "${platforms[@]}" \
    --dest "$WHEELHOUSE" -r /dev/stdin
  touch "$WHEELHOUSE/.complete"
fi

# The project's wheel (hatchling builds it reproducibly, so an unchanged tree keeps docker's cache).
# One context folder per build: two builds at once (two work trees) must not share it.
mkdir -p "$CACHE/images"
CONTEXT=$(mktemp -d "$CACHE/images/context.XXXXXX")
trap 'rm -rf "$CONTEXT"' EXIT
mkdir -p "$CONTEXT/wheels"
cp -l "$WHEELHOUSE"/*.whl "$CONTEXT/wheels/" 2>/dev/null || cp "$WHEELHOUSE"/*.whl "$CONTEXT/wheels/"
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$CONTEXT/wheels" . 2>&1 | grep -v '^$' >&2 || true
ls "$CONTEXT"/wheels/online_connector-"$VERSION"-*.whl >/dev/null
cp images/constraints.txt "$CONTEXT/constraints.txt"

for image in operator extractor; do
  t0=$(date +%s)
  # The classic builder: BuildKit's Dockerfile frontend would be pulled from a registry.
  DOCKER_BUILDKIT=0 docker build --quiet --file "images/$image.Dockerfile" \
    --build-arg "PYTHON_IMAGE=$BASE" --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION" \
    --tag "$PREFIX$image:$TAG" "$CONTEXT" >/dev/null
  say "$PREFIX$image:$TAG built in $(( $(date +%s) - t0 )) s"
done
say "images ready in $(( $(date +%s) - START )) s"
echo "${PREFIX}operator:$TAG ${PREFIX}extractor:$TAG"

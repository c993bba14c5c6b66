#!/usr/bin/env bash
# Makes a Python base image from Debian's packages, for machines where no container registry is
# reachable: `mmdebstrap` builds a bookworm root filesystem with python3 (3.11) and CA certificates,
# `docker import` turns it into an image. It stands in for `python:3.11-slim-bookworm`: same Debian
# release, `python3` on PATH, no pip, no compiler. The root filesystem is cached by the hash of this
# script under ~/.cache/online-connector/images/, so a second run only imports it (seconds), and not
# even that when the image is already in docker.
# Usage: make-base-image.sh [IMAGE_NAME]   (prints the image reference on stdout)
set -euo pipefail
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,ca-certificates
key=$(sha256sum "$0" | cut -c1-12)
name=${1:-online-connector-base:${SUITE}-py3.11-${key}}
cache=${ONLINE_CONNECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/online-connector}/images
tarball="$cache/base-${SUITE}-${key}.tar"
if docker image inspect "$name" >/dev/null 2>&1; then echo "$name"; exit 0; fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  start=$(date +%s)
  echo "making the base image's root filesystem with mmdebstrap ($SUITE: $PACKAGES)" >&2
  # Documentation, man pages and locales are left out, as in the slim images.
  mmdebstrap --quiet --variant=apt --include="$PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    "$SUITE" "$cache/partial-${key}.tar" "$MIRROR" >&2
  mv "$cache/partial-${key}.tar" "$tarball"
  echo "root filesystem made in $(( $(date +%s) - start )) s" >&2
fi
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --message "Debian $SUITE with python3, made by scripts/make-base-image.sh" \
  "$tarball" "$name" >/dev/null
echo "$name"

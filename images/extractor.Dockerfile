# The extractor image that each import Job runs: `online-connector-extract`. Build it with `make images`
# (scripts/build-images.sh), which prepares the build context: `wheels/` (a wheelhouse holding the
# project's wheel and every pinned dependency, downloaded outside the build) and `constraints.txt`
# (images/constraints.txt). Nothing is fetched from a package index during the build.
#   PYTHON_IMAGE  base of both stages: python:3.12-slim-bookworm, or the Debian-made base of
#                 scripts/make-base-image.sh where no registry is reachable. Pin it by digest.
#   EXTRAS        extras of pyproject.toml to install: `extractor` (PostgreSQL, MySQL/MariaDB, DuckDB
#                 drivers), plus e.g. `sqlserver`, `oracle`, `snowflake`, `redshift` when the wheelhouse
#                 holds them. SQLite needs no driver.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: a virtual environment from the wheelhouse; pip runs from its wheel and is not installed ---
FROM ${PYTHON_IMAGE} AS build
ARG VERSION=0.1.0
ARG EXTRAS=extractor
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY wheels /wheels
COPY constraints.txt /constraints.txt
RUN python3 -m venv --without-pip /opt/venv \
 && /opt/venv/bin/python "$(echo /wheels/pip-*.whl)/pip" install --no-index --find-links /wheels \
      --constraint /constraints.txt --only-binary :all: --no-compile \
      "online-connector[${EXTRAS}]==${VERSION}" \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# --- runtime: the base, the virtual environment, no pip, no compiler, a numeric non-root user ---------
FROM ${PYTHON_IMAGE} AS runtime
# The slim Python image ships pip; Debian's python3 ships its wheels for ensurepip. Neither stays.
# The numeric user gets a name: kopf (getpass.getuser) and others look it up in /etc/passwd.
RUN rm -rf /usr/local/bin/pip* /usr/local/lib/python3*/site-packages/pip \
           /usr/local/lib/python3*/site-packages/pip-*.dist-info \
           /usr/local/lib/python3*/ensurepip /usr/lib/python3*/ensurepip /usr/share/python-wheels \
           /root/.cache \
 && echo 'nonroot:x:65532:65532:nonroot:/tmp:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'nonroot:x:65532:' >> /etc/group
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 65532:65532
ENTRYPOINT ["online-connector-extract"]
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG EXTRAS=extractor
ARG PYTHON_IMAGE
LABEL org.opencontainers.image.title="online-connector-extractor" \
      org.opencontainers.image.description="Reads database catalogs and pushes metadata to DataGalaxy" \
      org.opencontainers.image.source="https://github.com/datagalaxy/online-connector" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}" \
      com.datagalaxy.online-connector.extras="${EXTRAS}"

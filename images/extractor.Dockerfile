# syntax=docker/dockerfile:1.7
# The extractor image that each import Job runs: `online-connector-extract`. Build from the repository root:
#   docker build -f images/extractor.Dockerfile --build-arg DRIVERS=postgresql,mysql \
#     -t online-connector-extractor:0.1.0 .
# DRIVERS picks the database drivers (extras of pyproject.toml): postgresql, mysql, mariadb, duckdb,
# sqlserver, oracle, snowflake, redshift, or all-drivers. SQLite needs no driver.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: compilers only here, for drivers that ship no wheel for this platform -----------------
FROM ${PYTHON_IMAGE} AS build
ARG DRIVERS=postgresql,mysql,duckdb
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install --yes --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY extractors ./extractors
COPY testbed ./testbed
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install ".[${DRIVERS}]" \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib \
 && /opt/venv/bin/pip uninstall --yes pip setuptools wheel \
 && rm -rf /opt/venv/lib/python*/site-packages/connector_testbed \
           /opt/venv/lib/python*/site-packages/connector_operator

# --- runtime: no compiler, no pip; a numeric non-root user ----------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG DRIVERS=postgresql,mysql,duckdb
LABEL org.opencontainers.image.title="online-connector-extractor" \
      org.opencontainers.image.description="Reads database catalogs and pushes metadata to DataGalaxy" \
      org.opencontainers.image.source="https://github.com/datagalaxy/online-connector" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      com.datagalaxy.online-connector.drivers="${DRIVERS}"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=build /opt/venv /opt/venv
RUN pip uninstall --yes pip setuptools wheel 2>/dev/null; rm -rf /root/.cache
USER 65532:65532
ENTRYPOINT ["online-connector-extract"]

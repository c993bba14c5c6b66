# syntax=docker/dockerfile:1.7
# The operator image: `online-connector operator` (kopf) and the CLI. Build from the repository root:
#   docker build -f images/operator.Dockerfile -t online-connector-operator:0.1.0 .
# Pin the base by digest for reproducible builds: --build-arg PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:...

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: a virtual environment with the project and its dependencies, nothing else -------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY extractors ./extractors
COPY testbed ./testbed
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib \
 && /opt/venv/bin/pip uninstall --yes pip setuptools wheel \
 && rm -rf /opt/venv/lib/python*/site-packages/connector_testbed

# --- runtime: the slim base, the virtual environment, a numeric non-root user ---------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="online-connector-operator" \
      org.opencontainers.image.description="Kubernetes operator that runs DataGalaxy Online Connector imports" \
      org.opencontainers.image.source="https://github.com/datagalaxy/online-connector" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=build /opt/venv /opt/venv
# No pip, no compiler, no package manager cache in the final image; the root filesystem can be read-only.
RUN pip uninstall --yes pip setuptools wheel 2>/dev/null; rm -rf /root/.cache
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["online-connector"]
# Settings are OLC_* environment variables (the chart sets them); kopf serves /healthz on 8080.
CMD ["operator"]

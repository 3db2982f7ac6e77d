# syntax=docker/dockerfile:1
# The pipeline image that docker compose builds for its `pipeline` and `sqlmesh-ui` services.
#
# It holds the locked dependencies (uv.lock, no dev group), this repository as the SQLMesh
# project, and DuckDB's httpfs extension installed from its pip package: a container downloads
# nothing at run time. The same steps as `make setup`, with the same pinned uv.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
# `--build-arg WITH_SPARK=1` adds what the spark gateway needs (PySpark, and Java below).
ARG WITH_SPARK=
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
# Install into /app/.venv with the image's Python; never download another one.
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy
WORKDIR /app
# The dependencies first, in a layer of their own, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --compile-bytecode --python python3 \
    ${WITH_SPARK:+--extra spark}
COPY . .
# The project itself, installed editable: `olist run` finds the SQLMesh project (config.yaml,
# models/) as the parent folder of the `olist` package, which must therefore stay in /app.
RUN uv sync --frozen --no-dev --compile-bytecode --python python3 ${WITH_SPARK:+--extra spark}

FROM ${PYTHON_IMAGE}
ARG WITH_SPARK=
# Spark runs on a JVM: Debian's Java 17 runtime, only in an image built for the spark gateway.
RUN if [ -n "$WITH_SPARK" ]; then \
        apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
        && rm -rf /var/lib/apt/lists/*; \
    fi
RUN useradd --create-home --user-group --uid 10001 olist
WORKDIR /app
COPY --from=build /app /app
# The code stays root's and read-only to the pipeline; it writes only its data (a volume), and
# SQLMesh's cache and logs, which SQLMesh keeps in the project folder.
RUN mkdir -p data .cache logs && chown olist:olist data .cache logs
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1
# By number, so a runtime that refuses root (e.g. Kubernetes' runAsNonRoot) can check it.
USER 10001:10001
# Into the olist user's ~/.duckdb, where DuckDB looks when the pipeline or SQLMesh loads httpfs.
RUN python -m olist.duckdb_extensions
CMD ["olist", "run"]

# syntax=docker/dockerfile:1
# One image for the code server (the default command), the webserver and the daemon:
#   docker run perfplat                                  # gRPC code server on :4000
#   docker run perfplat dagster-webserver -h 0.0.0.0 -p 3000 -w /opt/dagster/home/workspace.yaml
#   docker run perfplat dagster-daemon run -w /opt/dagster/home/workspace.yaml
# The image carries no embedded sample: every source must be configured (a missing setting is named when the
# code location loads). docker-compose.yml builds the `demo` target, which adds the sample for a local try.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY perfplat_assets ./perfplat_assets
# The package's wheel, then wheels of every dependency at the tested versions.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip wheel --no-cache-dir --wheel-dir /wheels --constraint constraints.txt /wheels/perfplat-*.whl

# The sample's wheels, for the demo target only: production's build never reads sample/.
FROM python:3.11-slim AS sample-build
WORKDIR /src
COPY sample ./sample
RUN pip wheel --no-cache-dir --wheel-dir /sample-wheels --constraint sample/constraints.txt ./sample

FROM python:3.11-slim AS runtime
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels perfplat && rm -rf /wheels \
 && useradd --create-home --uid 10001 perfplat
ENV DAGSTER_HOME=/opt/dagster/home \
    PERFPLAT_DATA_DIR=/var/lib/perfplat \
    PYTHONUNBUFFERED=1
RUN mkdir -p "$DAGSTER_HOME" "$PERFPLAT_DATA_DIR" && chown perfplat "$PERFPLAT_DATA_DIR"
COPY deploy/dagster.yaml workspace.yaml $DAGSTER_HOME/
WORKDIR /opt/dagster/home
USER perfplat
EXPOSE 4000 3000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "perfplat_assets.definitions", "--location-name", "perfplat"]

# `docker build --target demo`: the same image with the embedded sample, for docker-compose.yml's local stack.
FROM runtime AS demo
USER root
COPY --from=sample-build /sample-wheels /sample-wheels
RUN pip install --no-cache-dir --no-index --find-links /sample-wheels perfplat-sample && rm -rf /sample-wheels
USER perfplat

# The default target: production, without the sample.
FROM runtime AS production

# syntax=docker/dockerfile:1
# One image for the code server (the default command), the webserver and the daemon:
#   docker run perfplat                                  # gRPC code server on :4000
#   docker run perfplat dagster-webserver -h 0.0.0.0 -p 3000 -w /opt/dagster/home/workspace.yaml
#   docker run perfplat dagster-daemon run -w /opt/dagster/home/workspace.yaml

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY perfplat_assets ./perfplat_assets
# The package's wheel, then wheels of every dependency at the tested versions.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip wheel --no-cache-dir --wheel-dir /wheels --constraint constraints.txt /wheels/perfplat-*.whl

FROM python:3.11-slim
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

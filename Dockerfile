# syntax=docker/dockerfile:1
# One image for the code server (default command), the webserver and the daemon.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY perfplat_assets ./perfplat_assets
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /wheels \
 && pip wheel --no-cache-dir --wheel-dir /wheels /wheels/perfplat-*.whl

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 perfplat
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels perfplat && rm -rf /wheels
ENV DAGSTER_HOME=/opt/dagster/home PERFPLAT_DATA_DIR=/var/lib/perfplat
RUN mkdir -p $DAGSTER_HOME $PERFPLAT_DATA_DIR && chown perfplat $PERFPLAT_DATA_DIR
COPY dagster.yaml workspace.yaml $DAGSTER_HOME/
WORKDIR /opt/dagster/home
USER perfplat
EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "perfplat_assets.definitions", "--location-name", "perfplat"]

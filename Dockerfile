# tradeflow's one image: the ingress, every stage worker and the two emulators run from it (compose.yaml).
# Two stages: the build stage installs the runtime pins only (requirements-runtime.lock: no test, lint,
# bench or moto package) and tradeflow into a virtual environment; the final stage is a clean slim Python
# with just that environment copied in.
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/tradeflow
COPY requirements-runtime.lock ./
RUN /opt/tradeflow/bin/pip install --require-hashes -r requirements-runtime.lock
COPY pyproject.toml ./
COPY messages messages
COPY brokers brokers
COPY telemetry telemetry
COPY workers workers
COPY emulators emulators
RUN /opt/tradeflow/bin/pip install --no-deps .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/tradeflow/bin:$PATH
COPY --from=build /opt/tradeflow /opt/tradeflow
WORKDIR /app
# Unprivileged; .data (TRADEFLOW_DATA_DIR) is the one place it writes, e.g. TRADEFLOW_NOTIFIER=log's outbox.
RUN mkdir .data && chown nobody:nogroup .data
USER nobody
ENTRYPOINT ["tradeflow"]

# tradeflow's one image: the ingress, every stage worker and the two emulators run from it (compose.yaml).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY messages messages
COPY brokers brokers
COPY telemetry telemetry
COPY workers workers
COPY emulators emulators
RUN pip install --no-cache-dir --no-deps . \
    && mkdir .data && chown nobody:nogroup .data
# Unprivileged; .data (TRADEFLOW_DATA_DIR) is the one place it writes, e.g. TRADEFLOW_NOTIFIER=log's outbox.
USER nobody
ENTRYPOINT ["tradeflow"]

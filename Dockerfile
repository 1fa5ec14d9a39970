# tradeflow's one image: the ingress and every stage worker run from it (see compose.yaml).
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
RUN pip install --no-cache-dir --no-deps .
USER nobody
ENTRYPOINT ["tradeflow"]

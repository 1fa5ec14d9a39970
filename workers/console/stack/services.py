"""The machine's services `up` and the benches need: RabbitMQ and Redis, started on loopback when down."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from urllib.parse import urlparse

from workers.chain.rabbitmq import rabbitmq_answers
from workers.settings import rabbitmq_urls


def ensure_rabbitmq(urls: str | Sequence[str]) -> None:
    """Connect to RabbitMQ (the first node of RABBITMQ_URL's that answers); start the machine's own server
    when none does and we can."""
    if rabbitmq_answers(urls):
        return
    hosts = ", ".join(str(urlparse(url).hostname) for url in _each(urls))
    if shutil.which("rabbitmq-server") is None:
        raise SystemExit(f"RabbitMQ is not reachable at {hosts} and rabbitmq-server is not installed")
    print("RabbitMQ is down; starting it (rabbitmq-server -detached)…", flush=True)
    subprocess.run(["rabbitmq-server", "-detached"], check=False)
    subprocess.run(["rabbitmqctl", "await_startup", "--timeout", "120"], check=False)
    if not rabbitmq_answers(urls):
        raise SystemExit(f"RabbitMQ did not come up at {hosts}")


def _each(urls: str | Sequence[str]) -> Sequence[str]:
    return rabbitmq_urls(urls) if isinstance(urls, str) else urls


def redis_answers(url: str) -> bool:
    """Whether Redis at `url` answers a PING now."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def ensure_redis(url: str) -> bool:
    """Reach Redis (the Alpaca account's shared rate budget); start the machine's redis-server on loopback
    when it is down and we can. True when this call started it."""
    if redis_answers(url):
        return False
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost") or shutil.which("redis-server") is None:
        raise SystemExit(
            f"Redis is not reachable at {redact_url(url)} (REDIS_URL) and cannot be started here"
        )
    print("Redis is down; starting it (redis-server --daemonize yes)…", flush=True)
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(parsed.port or 6379)],
        check=False,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not redis_answers(url):
        if time.monotonic() > deadline:
            raise SystemExit("Redis did not come up")
        time.sleep(0.1)
    return True


def redact_url(url: str) -> str:
    """The URL with its password shown as ***."""
    parsed = urlparse(url)
    return url.replace(f":{parsed.password}@", ":***@") if parsed.password else url

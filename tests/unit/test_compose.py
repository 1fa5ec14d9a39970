"""compose.yaml keeps DESIGN §6's shape: one service per stage, the ingress, RabbitMQ, DynamoDB, Jaeger, and
the emulators as an optional profile; every service has a healthcheck and every image pulled is pinned.

No Docker engine runs on these machines, so this checks the file's structure and that tradeflow accepts
what it hands each process, not a deployment; CI also validates it against the Compose Specification
(`check-jsonschema --builtin-schema vendor.compose-spec compose.yaml`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from emulators.alpaca.__main__ import parse_args as alpaca_args
from emulators.slack.__main__ import parse_args as slack_args
from workers.chain.routing import SERVICE_NAMES, STAGE_NAMES
from workers.console.args import build_parser
from workers.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
WORKERS = (*STAGE_NAMES, *SERVICE_NAMES)  # each queue a `tradeflow worker` consumes: a service of its own
EMULATORS = {
    "alpaca-emulator": ("emulators.alpaca", alpaca_args),
    "slack-emulator": ("emulators.slack", slack_args),
}


def at_default(value: object) -> str:
    """A value as compose interpolates it when .env sets nothing: each ${VAR:-default} at its default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))


def environment_of(service: str) -> dict[str, str]:
    return {name: at_default(value) for name, value in SERVICES[service]["environment"].items()}


def test_every_stage_runs_as_its_own_service_on_its_own_queue() -> None:
    for stage in WORKERS:
        assert SERVICES[stage]["command"] == ["worker", "--queues", stage]
        build_parser().parse_args(SERVICES[stage]["command"])  # a command tradeflow accepts
    names = [environment_of(s)["OTEL_SERVICE_NAME"] for s in (*WORKERS, "ingress")]
    assert len(set(names)) == len(names)  # each process its own service.name in Jaeger


def test_the_stages_scale_they_publish_no_host_port_and_have_no_fixed_name() -> None:
    for stage in WORKERS:
        assert "ports" not in SERVICES[stage] and "container_name" not in SERVICES[stage]


def test_every_tradeflow_process_gets_settings_it_accepts_pointing_at_the_compose_services() -> None:
    for service in (*WORKERS, "ingress"):
        env = environment_of(service)
        settings = load_settings(env)  # a misspelt TRADEFLOW_* name or a bad value would stop it
        assert urlparse(settings.rabbitmq_url).hostname == "rabbitmq"
        assert urlparse(settings.aws_endpoint_url_dynamodb or "").hostname == "dynamodb"
        assert urlparse(env["OTEL_EXPORTER_OTLP_ENDPOINT"]).hostname == "jaeger"
        assert settings.tradeflow_queue_type == "quorum"
        # Without the emulators profile, the real paper API and Slack: never a loopback default.
        assert urlparse(settings.alpaca_paper_base_url).hostname == "paper-api.alpaca.markets"
        assert urlparse(settings.slack_api_url).hostname == "slack.com"
        depends = SERVICES[service]["depends_on"]
        assert depends["rabbitmq"] == {"condition": "service_healthy"}
        for emulator in EMULATORS:  # waited for when its profile is on, ignored when it is off
            assert depends[emulator] == {"condition": "service_healthy", "required": False}
    assert load_settings(environment_of("ingress")).tradeflow_ingress_host == "0.0.0.0"


def test_every_tradeflow_process_shares_the_alpaca_budget_in_the_compose_redis() -> None:
    redis = SERVICES["redis"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in redis  # only the stages reach it
    for service in (*WORKERS, "ingress"):
        settings = load_settings(environment_of(service))
        assert settings.tradeflow_rate_limiter == "redis"
        assert urlparse(settings.redis_url).hostname == "redis"
        assert SERVICES[service]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_rabbitmq_uses_the_credentials_the_stages_connect_with() -> None:
    rabbitmq = SERVICES["rabbitmq"]["environment"]
    url = urlparse(load_settings(environment_of("validation")).rabbitmq_url)
    assert url.username == at_default(rabbitmq["RABBITMQ_DEFAULT_USER"])
    assert url.password == at_default(rabbitmq["RABBITMQ_DEFAULT_PASS"])


def test_rabbitmq_is_a_3x_release_with_quorum_queues_that_take_the_xqs_ttl() -> None:
    version = re.match(r"rabbitmq:(\d+)\.(\d+)", SERVICES["rabbitmq"]["image"])
    assert version is not None
    assert (3, 10) <= (int(version[1]), int(version[2])) < (4, 0)


def test_the_ingress_is_healthy_when_its_healthz_answers() -> None:
    check = SERVICES["ingress"]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"] and "http://127.0.0.1:3000/healthz" in check[3]
    assert environment_of("ingress")["TRADEFLOW_INGRESS_PORT"] == "3000"
    assert SERVICES["ingress"]["ports"] == ["3000:3000"]


def test_the_emulators_are_an_optional_profile_serving_on_all_interfaces() -> None:
    for name, (module, parse_args) in EMULATORS.items():
        emulator = SERVICES[name]
        assert emulator["profiles"] == ["emulators"]
        assert emulator["entrypoint"] == ["python", "-m", module]
        args = parse_args(emulator["command"])  # arguments the emulator accepts
        assert args.host == "0.0.0.0"
        assert emulator["ports"] == [f"{args.port}:{args.port}"]
        assert emulator["healthcheck"]["test"][-1] == str(args.port)
    assert all("profiles" not in SERVICES[s] for s in (*WORKERS, "ingress", "rabbitmq", "dynamodb", "jaeger"))


def test_the_image_holds_every_package_tradeflow_installs() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    copied = re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert sorted(copied) == sorted(p.rstrip("*") for p in packages["include"])


def test_every_service_has_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_the_stages_are_healthy_while_their_worker_processes_beat() -> None:
    for stage in WORKERS:
        check = SERVICES[stage]["healthcheck"]
        assert check["test"][:3] == ["CMD", "tradeflow", "worker-alive"]
        build_parser().parse_args(check["test"][2:])  # a command tradeflow accepts
        # Its default --max-age, 4 x TRADEFLOW_HEARTBEAT_S, follows .env; a worker gets that long to boot.
        heartbeat_s = load_settings(environment_of(stage)).tradeflow_heartbeat_s
        assert "--max-age" not in check["test"] and seconds(check["start_period"]) >= 4 * heartbeat_s
        assert SERVICES[stage]["depends_on"]["dynamodb"] == {"condition": "service_healthy"}


def test_every_image_pulled_is_pinned_to_a_release_and_none_is_latest() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        assert not image.endswith(":latest") and ":" in image, f"{name}: {image}"
        if "build" not in service:  # pulled, not built here
            assert re.search(r":\d+\.\d+\.\d+([-.]\w+)*$|@sha256:[0-9a-f]{64}$", image), f"{name}: {image}"


def test_jaeger_is_v2_taking_otlp_on_4318_serving_queries_on_16686_with_spans_on_a_volume() -> None:
    jaeger = SERVICES["jaeger"]
    assert re.fullmatch(r"jaegertracing/jaeger:2\.\d+\.\d+", jaeger["image"])
    assert {"16686:16686", "4318:4318"} <= set(jaeger["ports"])
    (mounted,) = jaeger["configs"]
    assert jaeger["command"] == [f"--config={mounted['target']}"]
    config = yaml.safe_load(COMPOSE["configs"][mounted["source"]]["content"])
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"
    assert config["extensions"]["jaeger_query"]["http"]["endpoint"] == "0.0.0.0:16686"
    store = config["extensions"]["jaeger_query"]["storage"]["traces"]
    assert config["exporters"]["jaeger_storage_exporter"]["trace_storage"] == store
    badger = config["extensions"]["jaeger_storage"]["backends"][store]["badger"]
    assert badger["ephemeral"] is False
    volume, target = jaeger["volumes"][0].split(":")
    assert volume in COMPOSE["volumes"]
    assert all(path.startswith(f"{target}/") for path in badger["directories"].values())
    health = config["extensions"]["healthcheckv2"]["http"]["endpoint"]
    assert f"http://{health}/status" in jaeger["healthcheck"]["test"]


def test_dynamodb_local_keeps_its_tables_on_a_volume() -> None:
    dynamodb = SERVICES["dynamodb"]
    command = dynamodb["command"]
    volume, target = dynamodb["volumes"][0].split(":")
    assert volume in COMPOSE["volumes"] and command[command.index("-dbPath") + 1] == target
    assert "-sharedDb" in command and "-inMemory" not in command


def seconds(duration: str) -> float:
    """A compose duration such as 15s, 1m30s or 500ms, in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)

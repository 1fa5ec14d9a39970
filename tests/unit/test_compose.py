"""compose.yaml keeps DESIGN §6's shape: one service per stage, the ingress, RabbitMQ, DynamoDB, Jaeger.

No Docker engine runs on these machines, so this checks the file's structure, not a deployment.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from workers.cli_args import build_parser
from workers.routing import STAGE_NAMES

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "compose.yaml").read_text())


def test_every_stage_runs_as_its_own_service_on_its_own_queue() -> None:
    services = COMPOSE["services"]
    for stage in STAGE_NAMES:
        assert services[stage]["command"] == ["worker", "--queues", stage]
        build_parser().parse_args(services[stage]["command"])  # a command tradeflow accepts
        assert services[stage]["environment"]["RABBITMQ_URL"].startswith("amqp://")


def test_the_ingress_and_the_backing_services_are_there() -> None:
    services = COMPOSE["services"]
    assert services["ingress"]["command"] == ["ingress"]
    assert services["ingress"]["environment"]["TRADEFLOW_INGRESS_HOST"] == "0.0.0.0"
    assert {"rabbitmq", "dynamodb", "jaeger"} <= set(services)
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    for name in (*STAGE_NAMES, "ingress"):
        assert services[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"

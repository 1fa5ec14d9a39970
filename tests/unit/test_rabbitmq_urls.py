"""RABBITMQ_URL names one node or every node of a cluster; each process connects to the first that answers."""

from __future__ import annotations

import socket

import pytest

from workers.chain.rabbitmq import build_rabbitmq, rabbitmq_answers, rabbitmq_parameters
from workers.console.checks.health import check_rabbitmq
from workers.console.dlq.channel import dead_letter_channel
from workers.console.dlq.letters import DlqError
from workers.console.failures import unreachable_service
from workers.settings import SettingsError, load_settings

NODE_A = "amqp://tf:pa%2Css@10.0.0.1:5672/%2F"
NODE_B = "amqp://tf:secret-b@10.0.0.2:5673/%2F?heartbeat=30"
NODE_C = "amqps://tf:secret-c@rabbit-c.internal:5671/%2F"


def refused_url() -> str:
    """A loopback port nothing listens on: a node that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"amqp://guest:guest@127.0.0.1:{port}/%2F"


def test_one_url_is_one_node() -> None:
    assert load_settings({"RABBITMQ_URL": NODE_A}).rabbitmq_urls == (NODE_A,)
    assert load_settings({}).rabbitmq_urls == ("amqp://guest:guest@127.0.0.1:5672/%2F",)


@pytest.mark.parametrize("separator", [",", ", ", ";", " ; "])
def test_several_urls_are_the_nodes_in_their_order(separator: str) -> None:
    settings = load_settings({"RABBITMQ_URL": separator.join((NODE_B, NODE_A, NODE_C))})
    assert settings.rabbitmq_urls == (NODE_B, NODE_A, NODE_C)


def test_a_comma_inside_a_url_does_not_split_it() -> None:
    raw = "amqp://tf:pa,ss@10.0.0.1:5672/%2F"  # a password with a bare comma
    assert load_settings({"RABBITMQ_URL": f"{raw},{NODE_B}"}).rabbitmq_urls == (raw, NODE_B)


def test_a_trailing_separator_is_no_node() -> None:
    assert load_settings({"RABBITMQ_URL": f"{NODE_A}, "}).rabbitmq_urls == (NODE_A,)


@pytest.mark.parametrize("value", [f"{NODE_A},http://10.0.0.2:5672/", " , ", f"{NODE_A};redis://x"])
def test_a_list_with_a_bad_url_fails_with_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="RABBITMQ_URL"):
        load_settings({"RABBITMQ_URL": value})


def test_the_parameters_are_tried_in_the_order_given() -> None:
    parameters = rabbitmq_parameters(f"{NODE_B},{NODE_A}")
    assert [(p.host, p.port) for p in parameters] == [("10.0.0.2", 5673), ("10.0.0.1", 5672)]
    assert parameters[0].heartbeat == 30


def test_the_workers_and_the_ingress_get_every_node_each_with_the_blocked_timeout() -> None:
    rabbitmq = build_rabbitmq(load_settings({"RABBITMQ_URL": f"{NODE_A},{NODE_B},{NODE_C}"}))
    assert isinstance(rabbitmq.parameters, list)
    assert [p.host for p in rabbitmq.parameters] == ["10.0.0.1", "10.0.0.2", "rabbit-c.internal"]
    assert {p.blocked_connection_timeout for p in rabbitmq.parameters} == {5.0}


def test_no_node_answering_is_no_rabbitmq() -> None:
    settings = load_settings({"RABBITMQ_URL": f"{refused_url()},{refused_url()}"})
    assert not rabbitmq_answers(settings.rabbitmq_urls)
    [check] = check_rabbitmq(settings)
    assert not check.ok and "none of 2 nodes answered" in check.detail
    with (
        pytest.raises(DlqError, match=r"cannot reach RabbitMQ at 127\.0\.0\.1:\d+/, 127\.0\.0\.1:"),
        dead_letter_channel(settings),
    ):
        pass


def test_an_unreachable_cluster_is_named_without_any_password() -> None:
    import pika.exceptions

    settings = load_settings({"RABBITMQ_URL": f"{NODE_A},{NODE_B}"})
    said = unreachable_service(pika.exceptions.AMQPConnectionError(), settings) or ""
    assert "10.0.0.1" in said and "10.0.0.2" in said
    assert "pa%2Css" not in said and "secret-b" not in said

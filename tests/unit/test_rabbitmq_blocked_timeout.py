"""Every RabbitMQ connection tradeflow opens gives up on a resource alarm's block (issue 13, defect 10)."""

from __future__ import annotations

import pytest

from workers.chain.rabbitmq import build_rabbitmq
from workers.settings import SettingsError, load_settings


def test_the_connection_parameters_carry_a_blocked_connection_timeout() -> None:
    rabbitmq = build_rabbitmq(load_settings({}))  # connects lazily: nothing is opened here
    assert rabbitmq.parameters.blocked_connection_timeout == 5.0


def test_the_setting_and_the_url_set_it() -> None:
    configured = load_settings({"TRADEFLOW_RABBITMQ_BLOCKED_TIMEOUT_S": "2.5"})
    assert build_rabbitmq(configured).parameters.blocked_connection_timeout == 2.5
    in_url = load_settings(
        {"RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F?blocked_connection_timeout=9"}
    )
    assert build_rabbitmq(in_url).parameters.blocked_connection_timeout == 9


def test_a_timeout_of_zero_is_refused() -> None:
    with pytest.raises(SettingsError, match="TRADEFLOW_RABBITMQ_BLOCKED_TIMEOUT_S"):
        load_settings({"TRADEFLOW_RABBITMQ_BLOCKED_TIMEOUT_S": "0"})

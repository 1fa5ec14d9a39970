pytest_plugins = [
    "tests.fixtures_dynamo",
    "tests.fixtures_rabbitmq",
    "tests.fixtures_alpaca",
    "tests.fixtures_slack",
]

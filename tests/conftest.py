pytest_plugins = ["tests.fixtures_dynamo"]

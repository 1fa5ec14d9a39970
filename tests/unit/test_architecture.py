"""The layout's rules: the import contracts hold, workers/ keeps three roots, the ingress loads no handler."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from workers.chain.routing import QUEUE_NAMES
from workers.chain.stage_handlers import STAGE_HANDLERS

REPO_ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Builds the ingress exactly as `tradeflow ingress` does, then lists what the process imported.
INGRESS_PROBE = """
import asyncio, json, sys
from workers.chain.publisher import Publisher
from workers.console.stack.ingress import compose_ingress
from workers.settings import load_settings

settings = load_settings({"TRADEFLOW_STORE": "memory", "ALPACA_PAPER_ENABLED": "false"})
publisher = Publisher(settings)

async def build():
    parts = await compose_ingress(settings, publisher)
    parts.ingress.web_app()
    await parts.close()

asyncio.run(build())
print(json.dumps(sorted(sys.modules)))
"""


def test_the_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_workers_top_level_holds_only_its_three_roots() -> None:
    loose = sorted(p.name for p in (REPO_ROOT / "workers").glob("*.py"))
    assert loose == ["__init__.py", "app.py", "bootstrap.py", "settings.py"]


def test_every_stage_of_the_routing_table_has_exactly_one_handler() -> None:
    assert sorted(STAGE_HANDLERS) == sorted(QUEUE_NAMES)


def test_the_ingress_process_imports_no_stage_handler_and_no_actor() -> None:
    result = subprocess.run(
        [sys.executable, "-c", INGRESS_PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    modules = set(json.loads(result.stdout.splitlines()[-1]))
    assert "workers.slack.ingress" in modules  # the probe did build the ingress
    handlers = {fn.__module__ for fn in STAGE_HANDLERS.values()}
    assert len(handlers) == len(STAGE_HANDLERS)
    assert not modules & handlers
    assert not modules & {"workers.chain.actors", "workers.chain.stage_handlers", "workers.handlers.rules"}

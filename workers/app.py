"""The dramatiq application: `dramatiq workers.app` (what `tradeflow worker` runs) imports this module."""

from __future__ import annotations

import logging

from telemetry.tracing import configure_tracing
from workers.actors import Runtime, declare_stage_actors
from workers.bootstrap import close_deps, open_deps
from workers.rabbitmq import build_rabbitmq
from workers.settings import load_settings

settings = load_settings()
logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
configure_tracing("tradeflow-worker")
runtime = Runtime(settings, open_deps, close_deps)
rabbitmq = build_rabbitmq(settings, runtime)
actors = declare_stage_actors(rabbitmq, settings, runtime)

"""`tradeflow config [--json]`: the effective settings, secrets redacted, and where each value came from."""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from telemetry.redaction import MASK, redact, secrets_of
from workers.console.common import EXIT_OK, print_doc
from workers.console.config.env_file import EnvSources
from workers.settings import Settings, setting_variables

# Settings whose value is a credential: shown as MASK whatever it is (a default is a public placeholder,
# but the source column already says "default").
SECRET_FIELDS = frozenset(
    {
        "alpaca_paper_api_key",
        "alpaca_paper_secret_key",
        "slack_bot_token",
        "slack_signing_secret",
        "aws_secret_access_key",
        "tradeflow_smtp_password",
    }
)


def config_document(settings: Settings, sources: EnvSources) -> dict[str, Any]:
    values = msgspec.to_builtins(settings)
    secrets = secrets_of(settings)
    rows = []
    for variable, name in sorted(setting_variables().items()):
        value = values.get(name)
        if name in SECRET_FIELDS and value:
            value = MASK
        elif isinstance(value, str):
            value = redact(value, secrets)  # a password inside RABBITMQ_URL, say
        rows.append({"variable": variable, "value": value, "source": sources.source_of(variable)})
    return {
        "env_file": str(sources.path),
        "env_file_found": sources.path.is_file(),
        "overridden_in_env_file": sorted(sources.ignored_in_file),
        "settings": rows,
    }


def render_config(doc: dict[str, Any]) -> str:
    found = "read" if doc["env_file_found"] else "not found"
    lines = [f".env: {doc['env_file']} ({found})"]
    if doc["overridden_in_env_file"]:
        lines.append(f"  set in .env but the environment wins: {', '.join(doc['overridden_in_env_file'])}")
    width = max(len(row["variable"]) for row in doc["settings"])
    for row in doc["settings"]:
        shown = "" if row["value"] is None else row["value"]
        lines.append(f"{row['variable']:<{width}}  {row['source']:<11}  {shown}")
    return "\n".join(lines)


def config(args: argparse.Namespace, settings: Settings) -> int:
    print_doc(config_document(settings, args.env_sources), args.json, render_config)
    return EXIT_OK

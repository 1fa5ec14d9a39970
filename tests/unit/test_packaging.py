"""The image carries the runtime only: its pins have no test, lint, bench or moto package, and it installs
nothing else. (Docker itself does not run on these machines: the build's inputs are what is checked.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_ONLY = {
    "pytest", "pytest-asyncio", "pytest-xdist", "hypothesis", "moto", "ruff", "mypy", "boto3-stubs",
    "check-jsonschema", "import-linter", "matplotlib", "flask", "werkzeug",
}  # fmt: skip


def pins(lock: str) -> dict[str, str]:
    text = (REPO_ROOT / lock).read_text()
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, flags=re.M)}


def requirement_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower()


def test_the_runtime_pins_hold_every_runtime_dependency_and_nothing_for_development() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    runtime = pins("requirements-runtime.lock")
    assert {requirement_name(r) for r in project["dependencies"]} <= set(runtime)
    assert DEVELOPMENT_ONLY & set(runtime) == set()
    assert "moto[server]>=5" in project["optional-dependencies"]["local"]


def test_development_and_runtime_pins_agree_on_every_shared_package() -> None:
    development, runtime = pins("requirements.lock"), pins("requirements-runtime.lock")
    assert {name: v for name, v in runtime.items() if development.get(name) != v} == {}


def test_the_image_installs_the_runtime_pins_only_and_ships_no_build_stage() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assert len(stages) == 2 and stages[0].startswith("python:3.11-slim AS build")
    build, final = stages
    assert re.findall(r"pip install .*-r (\S+)", build) == ["requirements-runtime.lock"]
    assert "requirements.lock" not in dockerfile
    assert "pip install" not in final  # the final stage only copies the built environment in
    assert "COPY --from=build /opt/tradeflow /opt/tradeflow" in final

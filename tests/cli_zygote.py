"""Operator commands for the end-to-end tests without Python's start each time.

A process that imported tradeflow's console once forks a child for each command. The child takes the
command's environment, working directory and arguments, runs `workers.console.main` as
`python -m workers.console.main ARGS` would (stdin closed, stdout and stderr captured), runs the exit
handlers and exits with the command's code. Each command still runs in a process of its own, so nothing it
does reaches the next one; only the interpreter's start and the imports are shared (0.7 s of CPU a command,
on two cores that also run the workers, DynamoDB Local and RabbitMQ the command talks to).

It starts the stacks' long-running processes the same way (`start`): the real `tradeflow worker ARGS` or
`tradeflow ingress`, in a session of its own, writing to the descriptors the caller passes over the socket,
and ended by SIGTERM when the zygote ends. A worker's `execv` into `python -m dramatiq` becomes a call of
dramatiq's main in the same process, which is what `-m dramatiq` runs, so the worker process dramatiq forks
finds tradeflow imported (a worker's start cost 1 s of CPU, most of it imports, and an ingress's as much;
every end-to-end test starts one or more).

    python -m tests.cli_zygote SOCKET      # serves until killed; prints "ready" once it listens
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import pkgutil
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from tests.zygote_process import ZygoteProcess, read_line

REPO_ROOT = Path(__file__).resolve().parents[1]
MAIN = REPO_ROOT / "workers" / "console" / "main.py"
READY = "ready"
START_TIMEOUT_S = 60.0
MAX_REQUEST = 1 << 20
NOT_PRELOADED = {"workers.app"}  # builds a broker when imported: each worker imports it itself


def serve(path: str) -> None:
    """Import tradeflow (not its dramatiq app, which builds a broker), then fork a child per connection;
    never returns."""
    import dramatiq.cli

    import brokers
    import messages
    import telemetry
    import workers

    for package in (workers, brokers, messages, telemetry):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name not in NOT_PRELOADED:
                importlib.import_module(module.name)
    assert dramatiq.cli.main
    from brokers.aws_sessions import warm

    warm()  # botocore's models read once here: every child's first store opens in 3 ms, not 80
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children: none is waited for
    print(READY, flush=True)
    while True:
        connection, _ = server.accept()
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command may wait for processes of its own
            _run_request(connection)  # never returns
        connection.close()


def _run_request(connection: socket.socket) -> None:
    try:
        data, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, 2)
        request = json.loads(data + _read_all(connection))
    except BaseException:
        os._exit(1)
    if request.get("detached"):
        _run_detached(connection, request, fds)
    _run_command(connection, request)


def _run_command(connection: socket.socket, request: dict[str, Any]) -> None:
    code = 1
    try:
        _take_environment(request)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            _redirect(out.fileno(), err.fileno())
            code = _main(request["args"])
            with contextlib.suppress(Exception):
                atexit._run_exitfuncs()  # as the interpreter does when a process ends (span exports, logging)
            sys.stdout.flush()
            sys.stderr.flush()
            answer = {"code": code, "stdout": _read(out), "stderr": _read(err)}
        connection.sendall(json.dumps(answer).encode())
        connection.close()
    finally:
        os._exit(0)


def _run_detached(connection: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """`tradeflow ARGS` in a session of its own (its pid is its group's: killpg reaches its whole tree),
    on the caller's stdout and stderr; its pid is sent first, its exit code when it ends."""
    from workers.console.stack.children import die_with

    code = 1
    try:
        os.setsid()
        die_with(os.getppid())()  # SIGTERM when the zygote ends
        _take_environment(request)
        _redirect(fds[0], fds[1])
        for fd in fds:
            os.close(fd)
        connection.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        os.execv = _dramatiq_in_process  # type: ignore[assignment]  # this process only: see the docstring
        code = _main(request["args"])
        with contextlib.suppress(Exception):
            atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"code": code}).encode() + b"\n")
    finally:
        os._exit(code)


def _dramatiq_in_process(executable: str, argv: Sequence[str]) -> None:
    """What `os.execv(python, [python, "-m", "dramatiq", ARGS])` would run, without a new interpreter."""
    import dramatiq.cli

    if list(argv[1:3]) != ["-m", "dramatiq"]:
        raise RuntimeError(f"the zygote runs `-m dramatiq` only, not {argv!r}")
    sys.argv = ["dramatiq", *argv[3:]]
    raise SystemExit(dramatiq.cli.main())


def _take_environment(request: dict[str, Any]) -> None:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [str(MAIN), *request["args"]]


def _main(args: Sequence[str]) -> int:
    from workers.console.main import main

    try:
        return _exit_code(main(args))
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        return _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        return 1


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _redirect(out: int, err: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)


def _read(file: BinaryIO) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


class CliZygote:
    """The client: starts the serving process, runs commands through it, and kills it (with any command
    still running) on `close()`."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="tradeflow-cli-")
        self.path = str(Path(self._dir.name) / "cli.sock")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_zygote", self.path],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        said = self._process.stdout.readline().strip()  # the imports take a second or two
        if said != READY:
            self.close()
            raise RuntimeError(f"the CLI zygote did not start (said {said!r})")

    def run(
        self, args: Sequence[str], env: dict[str, str], cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """What `subprocess.run([python, -m, workers.console.main, *args], capture_output=True, text=True)`
        returns; subprocess.TimeoutExpired after `timeout` seconds."""
        request = json.dumps({"args": list(args), "env": env, "cwd": str(cwd)}).encode()
        command = [sys.executable, "-m", "workers.console.main", *args]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            try:
                connection.connect(self.path)
                connection.sendall(request)
                connection.shutdown(socket.SHUT_WR)
                answer = json.loads(_read_all(connection))
            except TimeoutError as exc:
                raise subprocess.TimeoutExpired(command, timeout) from exc
        return subprocess.CompletedProcess(command, answer["code"], answer["stdout"], answer["stderr"])

    def start(
        self, args: Sequence[str], env: dict[str, str], cwd: Path, stdout: int, stderr: int
    ) -> ZygoteProcess:
        """`tradeflow ARGS` (a worker, the ingress) as `subprocess.Popen(..., start_new_session=True)` would
        start it, on the descriptors `stdout` and `stderr`."""
        request = json.dumps({"detached": True, "args": list(args), "env": env, "cwd": str(cwd)}).encode()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(START_TIMEOUT_S)
            connection.connect(self.path)
            socket.send_fds(connection, [request], [stdout, stderr])
            connection.shutdown(socket.SHUT_WR)
            pid = int(json.loads(read_line(connection))["pid"])
        except BaseException:
            connection.close()
            raise
        return ZygoteProcess(pid, connection)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._dir.cleanup()


if __name__ == "__main__":
    serve(sys.argv[1])

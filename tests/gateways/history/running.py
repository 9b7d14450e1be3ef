"""A ``venue history`` process for end-to-end tests: started on 127.0.0.1, asked for its
status over HTTP, killed or stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.cluster.processes import REPO_ROOT, stop_process

from ..running_cluster import free_port

START_TIMEOUT_S = 30



class HistoryProcess:
    def __init__(self, folder: Path, name: str, addresses: list[str], target: list[str],
                 credential: tuple[str, str]) -> None:
        self.folder = folder
        self.name = name
        self.addresses = addresses
        self.principal = credential[0]
        self.credential_file = folder / f"{name}.credential"
        self.credential_file.write_text(credential[1])
        self.target = target  # ["--sqlite", PATH] or ["--postgres", DSN]
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = folder / f"{name}.log"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "venue.cluster.cli", "history", "--cluster",
             ",".join(self.addresses), "--principal", self.principal, "--credential-file",
             str(self.credential_file), *self.target, "--http", f"127.0.0.1:{self.port}",
             "--batch-entries-max", "200", "--batch-interval-ms", "50"],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        log.close()
        self.wait_until(lambda: self.status() is not None, START_TIMEOUT_S, "its HTTP server")

    def get(self, target: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{target}",
                                        timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def status(self) -> dict | None:
        try:
            return self.get("/status")[1]
        except (OSError, ValueError):
            return None

    def position(self) -> int:
        status = self.status()
        return status["position"] if status else 0

    def wait_until(self, predicate, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log()}")
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}: {self.log()}")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        stop_process(self.process)

    def log(self) -> str:
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""

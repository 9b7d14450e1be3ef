"""Headless Chromium driven over the Chrome DevTools Protocol (a WebSocket, with the
``websockets`` sync client): start it, open a page, evaluate JavaScript, take screenshots.
Started by the test, stopped by PID."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0


def chromium_path() -> str | None:
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")


class Chromium:
    def __init__(self, folder: Path, width: int = 1280, height: int = 900) -> None:
        self.folder = folder
        self.profile = folder / "chromium-profile"
        self.profile.mkdir(parents=True, exist_ok=True)
        self.width, self.height = width, height
        self.process: subprocess.Popen | None = None
        self.page: ClientConnection | None = None
        self._next_id = 0
        self._stack = contextlib.ExitStack()

    def start(self) -> None:
        binary = chromium_path()
        assert binary is not None, "no chromium"
        stderr = (self.folder / "chromium.log").open("wb")
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={self.profile}",
             f"--window-size={self.width},{self.height}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        stderr.close()
        port = self._devtools_port()
        self.page = self._stack.enter_context(connect(
            self._page_url(port), max_size=64 * 1024 * 1024, open_timeout=10,
            close_timeout=2))
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _devtools_port(self) -> int:
        """From ``DevToolsActivePort`` (its first line), written once DevTools listens."""
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"chromium exited: {self.log()}")
            lines = marker.read_text().splitlines() if marker.exists() else []
            if len(lines) >= 2:
                return int(lines[0])
            time.sleep(0.05)
        raise AssertionError(f"chromium did not start DevTools: {self.log()}")

    def _page_url(self, port: int) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                targets = json.load(r)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.05)
        raise AssertionError("chromium has no page target")

    def call(self, method: str, **params: object) -> dict:
        """One CDP command; its result (events that arrive in between are skipped)."""
        assert self.page is not None
        self._next_id += 1
        call_id = self._next_id
        self.page.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + CALL_TIMEOUT_S
        while True:
            message = json.loads(self.page.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == call_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page (exceptions fail the test)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 20.0, what: str = "") -> object:
        """Poll ``expression`` until it is truthy; its value. Fails after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or expression}; last: {value!r}; "
                             f"page: {self.evaluate('document.body.innerText')[:3000]}")

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        return data

    def log(self) -> str:
        path = self.folder / "chromium.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        self._stack.close()  # the DevTools connection
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)

"""Headless Chromium driven over the DevTools protocol (websocket-client), for the browser tests
of the report (file:// pages) and of the workbench (http pages on loopback).

Chromium is required, not optional: ``.ci/run`` installs Debian's ``chromium`` package
(``SLIPCATCH_CHROMIUM`` points elsewhere). Every request but loopback goes to a dead proxy and
every host name fails to resolve, so a page that tried to leave the machine would fail, not leave.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = Path(os.environ.get("SLIPCATCH_CHROMIUM", "/usr/bin/chromium"))
TIMEOUT = 60.0


@dataclass
class Browser:
    """One headless Chromium and a flat DevTools session on one page."""

    process: subprocess.Popen[bytes]
    ws: websocket.WebSocket
    session: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _next_id: int = 0

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: bool = True) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            if "method" in reply:
                self.events.append(reply)
        raise AssertionError(f"{method}: no reply within {TIMEOUT} s")

    def wait_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for e in self.events:
                if e["method"] == method:
                    return e
            reply = json.loads(self.ws.recv())
            if "method" in reply:
                self.events.append(reply)
        raise AssertionError(f"no {method} within {TIMEOUT} s")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.1)
        raise AssertionError(
            f"still false after {timeout} s: {expression}; page problems: {self.problems()}"
        )

    def goto(self, url: str, *, ready: bool = True) -> None:
        """Load a URL, wait for the page's script to finish (``ready``: the workbench marks its
        body ``data-ready="1"``) and every plot to be drawn."""
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")
        if ready:
            self.wait_for("document.body && document.body.dataset.ready === '1'")
        self.wait_for(
            "Array.from(document.querySelectorAll('div.plot'))"
            ".every(d => d.querySelector('svg.main-svg') !== null)"
        )
        time.sleep(0.3)  # let late console messages arrive
        self.evaluate("1")

    def open(self, path: Path) -> None:
        """Load a file (a self-contained report) and wait until every chart is drawn."""
        self.goto(path.as_uri(), ready=False)

    def screenshot(self, target: Path, *, width: int, height: int) -> bytes:
        data = self.call("Page.captureScreenshot", {
            "format": "png",
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            "captureBeyondViewport": True,
        })["data"]
        png = base64.b64decode(data)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)
        return png

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, CSP and other logged errors."""
        out = []
        for e in self.events:
            p = e["params"]
            if e["method"] == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails']}")
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in {"error", "warning",
                                                                              "assert"}:
                out.append(f"console.{p['type']}: {p['args']}")
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in {"error", "warning"}:
                out.append(f"log {p['entry']['source']}: {p['entry']['text']}")
        return out

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]


def _drain(stream: Any, lines: list[str], port: queue.Queue[str]) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace")
        lines.append(line)
        m = re.search(r"DevTools listening on (ws://\S+)", line)
        if m:
            port.put(m.group(1))
    stream.close()


@contextmanager
def chromium(profile: Path, width: int = 1280, height: int = 900) -> Iterator[Browser]:
    proc = subprocess.Popen(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-extensions", "--disable-default-apps",
         # Loopback goes direct; anything else would hit a dead proxy and fail, not leave.
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    lines: list[str] = []
    urls: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_drain, args=(proc.stderr, lines, urls), daemon=True)
    reader.start()
    try:
        try:
            url = urls.get(timeout=TIMEOUT)
        except queue.Empty as exc:
            raise AssertionError("Chromium reported no DevTools port:\n" + "".join(lines[-20:])) \
                from exc
        ws = websocket.create_connection(url, timeout=TIMEOUT, suppress_origin=True)
        b = Browser(proc, ws, stderr=lines)
        target = b.call("Target.createTarget", {"url": "about:blank"}, session=False)
        b.session = b.call("Target.attachToTarget",
                           {"targetId": target["targetId"], "flatten": True},
                           session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.call(f"{domain}.enable")
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        yield b
        ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=15)

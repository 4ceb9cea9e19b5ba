"""Headless Chromium and JupyterLab for the browser tests: Debian's `chromium` (.ci/run installs it), driven
over its remote-debugging protocol, and `jupyter lab` on 127.0.0.1 with a token and empty Jupyter dirs.

A sandboxed ``srcdoc`` iframe (an MCP Apps view) runs out of the page's process: :meth:`Browser.attach_frames`
asks Chromium to attach each such frame as a target of its own, and :meth:`Browser.frames` lists them, each
with the session id that :meth:`Browser.evaluate` takes.

For example::

    with lab_server(tmp / "lab", tmp / "notebooks") as (url, token):
        browser = Browser(tmp / "profile")
        browser.send("Page.navigate", url=f"{url}/lab/tree/a.ipynb?token={token}&reset")
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realservers import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = (
    "needs Debian's chromium (`apt-get install chromium`; "
    "browser downloads are not reachable, .ci/run installs it)"
)


def wait_for(what: str, check: Any, deadline_s: float = 180) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"gave up waiting for {what}")


def get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except OSError:
        return None


@contextlib.contextmanager
def lab_server(base: Path, root: Path, *options: str, app: str = "jupyterlab") -> Iterator[tuple[str, str]]:
    """`jupyter lab` serving ``root``, with its config, data and runtime dirs under ``base`` (so no notebook
    is trusted: the notary is in the data dir), every cell rendered (no windowing); ``(url, token)``.
    ``app="notebook"``: Notebook 7 (`jupyter notebook`, built on the same application) instead."""
    settings = base / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        # the run's 'mcp' kernelspec (root conftest.py) is found
        "JUPYTER_PATH": os.pathsep.join(filter(None, [str(base / "path"), os.environ.get("JUPYTER_PATH")])),
    }
    port, token = free_port(), secrets.token_hex(16)
    log = (base / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            app,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--LabServerApp.user_settings_dir={base / 'settings'}",  # LabApp's and Notebook 7's
            *(["--allow-root"] if os.geteuid() == 0 else []),
            *options,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            "jupyter lab to answer", lambda: proc.poll() is not None or get(f"{url}/api/status?token={token}")
        )
        assert proc.poll() is None, (base / "lab.log").read_text()[-3000:]
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class Browser:
    """Headless Chromium, driven over its remote-debugging protocol (a websocket speaking JSON)."""

    def __init__(self, profile: Path) -> None:
        from tornado.websocket import websocket_connect  # tornado: only the browser tests speak websocket

        self.proc = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "--window-size=1400,3000",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # its renderer and zygote children go with it
        port_file = profile / "DevToolsActivePort"
        port = wait_for(
            "chromium's debugging port", lambda: port_file.is_file() and port_file.read_text().split()[:1]
        )
        pages = wait_for(
            "a page target",
            lambda: [
                t for t in get(f"http://127.0.0.1:{port[0]}/json/list") or [] if t.get("type") == "page"
            ],
        )
        self.loop = asyncio.new_event_loop()

        async def connect() -> Any:  # tornado binds the connection to the loop it is created on
            return await websocket_connect(pages[0]["webSocketDebuggerUrl"], max_message_size=64 << 20)

        self.ws = self.loop.run_until_complete(connect())
        self.next_id = 0
        self.events: list[dict[str, Any]] = []  # what the page (and attached frames) sent meanwhile

    def request(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command (to ``session``, an attached frame, when given); its reply, error or result."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session

        async def call() -> dict[str, Any]:
            await self.ws.write_message(json.dumps(message))
            while True:  # keep the events that come meanwhile
                reply = json.loads(await self.ws.read_message())
                if reply.get("id") == message["id"] and reply.get("sessionId") == session:
                    return reply
                self.events.append(reply)

        return self.loop.run_until_complete(call())

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        message = self.request(method, session, **params)
        assert "error" not in message, message["error"]
        return message["result"]

    def evaluate(self, expression: str, session: str | None = None) -> Any:
        """The value of ``expression`` (a promise is awaited) in the page, or in the frame of ``session``."""
        result = self.send(
            "Runtime.evaluate", session, expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def attach_frames(self) -> None:
        """Attach each out-of-process frame (a sandboxed iframe), now and later, as a target of its own."""
        self.send("Target.setAutoAttach", autoAttach=True, waitForDebuggerOnStart=False, flatten=True)

    def frames(self) -> dict[str, dict[str, Any]]:
        """The attached frames still there: session id -> target info."""
        self.request("Runtime.evaluate", expression="0")  # reads the events sent until now
        attached: dict[str, dict[str, Any]] = {}
        for event in self.events:
            if event.get("method") == "Target.attachedToTarget":
                attached[event["params"]["sessionId"]] = event["params"]["targetInfo"]
            elif event.get("method") == "Target.detachedFromTarget":
                attached.pop(event["params"]["sessionId"], None)
        return attached

    def screenshot(self, path: Path, clip: dict[str, float] | None = None) -> Path:
        options: dict[str, Any] = {"format": "png"}
        if clip is not None:
            options["clip"] = {**clip, "scale": 1}
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", **options)["data"]))
        return path

    def close(self) -> None:
        async def close_socket() -> None:  # on its own loop: this thread need not have a current one
            self.ws.close()

        self.loop.run_until_complete(close_socket())
        self.loop.close()
        self.proc.terminate()  # the browser process alone ends quickly (the whole group on SIGTERM took 30 s)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)
        # then what is left of its group: renderer and zygote children can outlive it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

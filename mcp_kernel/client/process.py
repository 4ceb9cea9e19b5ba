"""A stdio server's process: why its command could not start, and stopping its whole process tree.

The server is started by the SDK with a random tag in its environment (:data:`TAG_VARIABLE`), so its
process can be found among our children (:func:`find_tagged_child`) and its tree stopped at close
(:class:`ServerTree`): the SDK kills the tree only when the server itself does not exit in time, and a
server's own children would be left.

>>> TAG_VARIABLE
'MCP_KERNEL_SERVER_TAG'
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["TAG_VARIABLE", "ServerTree", "find_tagged_child", "missing_command", "stop_group"]

TAG_VARIABLE = "MCP_KERNEL_SERVER_TAG"


def missing_command(command: str, cwd: str | None = None) -> str:
    """Why ``command`` could not start, and the one step that fixes it.

    A path (``../node_modules/.bin/x``) is looked for where the server starts (``cwd``, else here), not on
    PATH; one under ``node_modules`` comes from ``npm ci`` in the folder with the ``package.json``; ``npx``
    and ``node`` come with Node.js.

    >>> print(missing_command("node_modules/.bin/mcp-server-x", cwd="/srv/app"))  # doctest: +NORMALIZE_WHITESPACE
    command 'node_modules/.bin/mcp-server-x': /srv/app/node_modules/.bin/mcp-server-x does not exist (relative to
    /srv/app). Run `npm ci` in /srv/app (it installs what package.json lists), or start the server with `npx -y`.
    """
    if os.sep in command or (os.altsep and os.altsep in command):
        base = Path(cwd) if cwd else Path.cwd()
        path = (base / command).resolve() if not Path(command).is_absolute() else Path(command)
        if path.exists():
            return f"command {command!r} ({path}) is not executable. Fix its permissions or 'command' in mcp.json."
        where = f"{path} does not exist" + ("" if Path(command).is_absolute() else f" (relative to {base})")
        if "node_modules" in Path(command).parts:
            root = path.parents[len(path.parts) - 1 - path.parts.index("node_modules")]
            hint = f"Run `npm ci` in {root} (it installs what package.json lists), or start the server with `npx -y`."
        else:
            hint = "Install it, or give a path that exists (relative paths count from the kernel's folder)."
        return f"command {command!r}: {where}. {hint}"
    if shutil.which(command):
        return f"command {command!r} is not executable. Install it again or fix 'command' in mcp.json."
    if command in ("npx", "node", "npm"):
        return (
            f"command {command!r} was not found on PATH. Install Node.js (it brings node, npm and npx), then "
            "run the cell again."
        )
    return f"command {command!r} was not found on PATH. Install it or fix 'command' in mcp.json."


def find_tagged_child(tag: str) -> int | None:
    """The pid of our child process started with ``tag`` in its environment (on POSIX, a group leader)."""
    import psutil  # ~15 ms to import, paid only when a stdio server has started

    for child in psutil.Process().children():
        try:
            if child.environ().get(TAG_VARIABLE) == tag:
                return int(child.pid)
        except (psutil.Error, OSError):
            continue
    return None


class ServerTree:
    """A stdio server's processes, stopped at close with what the platform offers.

    Where there are process groups (POSIX) the server leads its own (the SDK starts it with
    ``start_new_session``), and the group is stopped: the server's children stay in it after it exits.
    Windows has none: there the SDK puts the server in a Job object that kills every member when the SDK
    closes it, whether the server exited by itself or not; for a server it could not put in a job (the SDK
    logs a warning) the children psutil finds while the server still runs (:meth:`remember`) are ended
    here. A child whose parent died before :meth:`remember` cannot be found there (no group, no parent).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._below: list[Any] = []

    def remember(self) -> None:
        """Note the server's descendants while it still runs (needed only where there are no groups)."""
        if hasattr(os, "killpg"):
            return
        import psutil  # ~15 ms to import, paid only when a stdio server is stopped

        try:
            self._below = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            self._below = []

    async def stop(self, grace: float = 2.0) -> None:
        """Stop what is left of the tree: terminate, then kill after ``grace`` seconds."""
        if hasattr(os, "killpg"):
            await stop_group(self.pid, grace)
        else:
            await _stop_processes(self._below, grace)


async def _escalate(send: Callable[[bool], bool], alive: Callable[[], bool], grace: float) -> None:
    """``send(False)`` (terminate), wait up to ``grace`` for ``alive()`` to turn false, then ``send(True)``
    (kill); ``send`` returns False when nothing was left to signal."""
    for hard, wait in ((False, grace), (True, 0.0)):
        if not send(hard):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if not alive():
                return


async def _stop_processes(processes: list[Any], grace: float) -> None:
    """Terminate, then kill, the given ``psutil.Process`` objects (psutil refuses a pid reused since)."""
    import psutil  # ~15 ms to import, paid only when a stdio server is stopped

    def send(hard: bool) -> bool:
        sent = False
        for proc in processes:
            with contextlib.suppress(psutil.Error):
                proc.kill() if hard else proc.terminate()
                sent = True
        return sent

    def alive() -> bool:
        for proc in processes:
            with contextlib.suppress(psutil.Error):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    return True
        return False

    await _escalate(send, alive, grace)


async def stop_group(pgid: int, grace: float = 2.0) -> None:
    """SIGTERM what is left of a server's process group (its own children), SIGKILL it after ``grace``.

    The group, not ``psutil.Process(pid).children(recursive=True)``: by now the leader has exited, and its
    children were handed to init, out of its tree but still in its group. The wait polls for members that
    are not zombies rather than ``psutil.wait_procs``, which counts an unreaped zombie as alive: on a machine
    whose init reaps orphans late it took 1.9 s for one killed orphan where this loop takes 0.05 s.
    """
    if not hasattr(os, "killpg"):  # no process groups (Windows): see ServerTree
        return

    import psutil  # ~15 ms to import, paid only when a stdio server is stopped

    def send(hard: bool) -> bool:
        try:
            os.killpg(pgid, signal.SIGKILL if hard else signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def alive() -> bool:
        """Whether a process of the group still runs (zombies waiting for a reaper do not count)."""
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                    return True
            except (psutil.Error, OSError):
                continue
        return False

    await _escalate(send, alive, grace)

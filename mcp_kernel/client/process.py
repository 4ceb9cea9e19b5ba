"""A stdio server's process: why its command could not start, and stopping its whole process group.

The server is started by the SDK with a random tag in its environment (:data:`TAG_VARIABLE`), so its
process (a group leader) can be found among our children and its group stopped at close: the SDK kills
the group only when the server itself does not exit in time, and a server's own children would be left.

>>> TAG_VARIABLE
'MCP_KERNEL_SERVER_TAG'
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from pathlib import Path

__all__ = ["TAG_VARIABLE", "find_tagged_child", "missing_command", "stop_group"]

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
    """The pid of our child process started with ``tag`` in its environment (a process group leader)."""
    import psutil  # ~15 ms to import, paid only when a stdio server has started

    for child in psutil.Process().children():
        try:
            if child.environ().get(TAG_VARIABLE) == tag:
                return int(child.pid)
        except (psutil.Error, OSError):
            continue
    return None


async def stop_group(pgid: int, grace: float = 2.0) -> None:
    """SIGTERM what is left of a server's process group (its own children), SIGKILL it after ``grace``.

    The group, not ``psutil.Process(pid).children(recursive=True)``: by now the leader has exited, and its
    children were handed to init, out of its tree but still in its group. The wait polls for members that
    are not zombies rather than ``psutil.wait_procs``, which counts an unreaped zombie as alive: on a machine
    whose init reaps orphans late it took 1.9 s for one killed orphan where this loop takes 0.05 s.
    """
    if not hasattr(os, "killpg"):
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if not _group_alive(pgid):
                return


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies waiting for a reaper do not count)."""
    import psutil  # ~15 ms to import, paid only when a stdio server is stopped

    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except (psutil.Error, OSError):
            continue
    return False

"""A pytest plugin that runs mcp_kernel as if on a platform without POSIX (as on Windows), here on Linux.

For mcp_kernel's own modules only, POSIX-only modules cannot be imported (``import fcntl`` raises
``ModuleNotFoundError``) and POSIX-only functions and constants are missing from ``os`` and ``signal`` (a
module that imported them sees a view without them). Pytest and third-party packages are left alone: they
branch on ``sys.platform`` themselves, which still says Linux. Tests marked ``posix`` are deselected.

What it cannot simulate: Windows' semantics (file locking, replacing an open file, ACLs instead of modes,
Job objects, interrupts by event); .github/workflows/platforms.yml runs the fast tier on real runners.

    python -m pytest -p tests.platform_sim -m "not slow"
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
import types
from typing import Any

import pytest

PACKAGE = "mcp_kernel"
# Standard-library modules that exist on POSIX only (Windows has none of them).
POSIX_MODULES = frozenset(
    [
        "fcntl",
        "termios",
        "tty",
        "pty",
        "pwd",
        "grp",
        "resource",
        "posix",
        "syslog",
        "crypt",
        "spwd",
        "nis",
        "readline",
        "curses",
        "pipes",
        "ossaudiodev",
        "_posixsubprocess",
        "_posixshmem",
    ]
)
# What Windows' os and signal modules lack, among what a package like this one might reach for.
POSIX_ATTRIBUTES = {
    "os": frozenset(
        [
            "killpg",
            "getpgid",
            "getpgrp",
            "setpgrp",
            "setpgid",
            "setsid",
            "getsid",
            "getuid",
            "geteuid",
            "getgid",
            "getegid",
            "getgroups",
            "setuid",
            "setgid",
            "chown",
            "lchown",
            "fchown",
            "fork",
            "forkpty",
            "wait3",
            "wait4",
            "uname",
            "sync",
            "getloadavg",
            "nice",
            "mkfifo",
            "mknod",
            "statvfs",
            "fstatvfs",
            "pipe2",
            "sched_getaffinity",
            "posix_spawn",
            "getpriority",
            "setpriority",
            "WNOHANG",
            "O_NOFOLLOW",
            "O_DIRECTORY",
            "O_CLOEXEC",
            "O_NONBLOCK",
            "O_SYNC",
            "O_DSYNC",
        ]
    ),
    "signal": frozenset(
        [
            "SIGKILL",
            "SIGHUP",
            "SIGQUIT",
            "SIGUSR1",
            "SIGUSR2",
            "SIGALRM",
            "SIGCHLD",
            "SIGPIPE",
            "SIGTSTP",
            "SIGCONT",
            "SIGSTOP",
            "SIGWINCH",
            "alarm",
            "setitimer",
            "getitimer",
            "pause",
            "pthread_kill",
            "pthread_sigmask",
            "sigwait",
            "siginterrupt",
            "SIG_BLOCK",
            "SIG_UNBLOCK",
            "SIG_SETMASK",
        ]
    ),
}


class _Without(types.ModuleType):
    """A view of ``real`` without ``hidden``; everything else (and every assignment) goes to ``real``."""

    def __init__(self, real: types.ModuleType, hidden: frozenset[str]) -> None:
        super().__init__(real.__name__, real.__doc__)
        self.__dict__["_real"], self.__dict__["_hidden"] = real, hidden

    def __getattr__(self, name: str) -> Any:
        if name in self.__dict__["_hidden"]:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r} (simulated platform)")
        return getattr(self.__dict__["_real"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__dict__["_real"], name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.__dict__["_real"], name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self.__dict__["_real"])) - self.__dict__["_hidden"])


VIEWS = {"os": _Without(os, POSIX_ATTRIBUTES["os"]), "signal": _Without(signal, POSIX_ATTRIBUTES["signal"])}
_real_import = builtins.__import__


def _ours(globals_: Any) -> bool:
    name = (globals_ or {}).get("__name__") or ""
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    """``__import__`` as mcp_kernel's modules see it on the simulated platform."""
    if level == 0 and _ours(globals):
        top = name.partition(".")[0]
        if top in POSIX_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r} (simulated platform)", name=name)
        if top in VIEWS:
            module = _real_import(name, globals, locals, fromlist, level)
            if name == top or not fromlist:  # `import os`, `import os.path`: the name bound is `os`
                return VIEWS[top]
            return module
    return _real_import(name, globals, locals, fromlist, level)


def simulate() -> None:
    """From now on, mcp_kernel's modules import as on the simulated platform."""
    already = sorted(name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + "."))
    if already:  # their names were bound to the real modules: the simulation would not hold for them
        raise RuntimeError(
            f"tests/platform_sim.py must load before {PACKAGE} (imported already: {already[:5]})"
        )
    builtins.__import__ = _import


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    """Before any conftest imports mcp_kernel (only plugins given with ``-p`` get this hook)."""
    simulate()


def pytest_report_header() -> str:
    return (
        f"simulated platform: {PACKAGE} without {len(POSIX_MODULES)} POSIX modules and POSIX os/signal names"
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    posix = [item for item in items if item.get_closest_marker("posix")]
    if posix:
        config.hook.pytest_deselected(items=posix)
        items[:] = [item for item in items if not item.get_closest_marker("posix")]

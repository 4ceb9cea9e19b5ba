"""One replica of ``serve`` among several: its name in every handle it makes, and its parked sessions.

Behind a load balancer, each agent's requests must reach the replica that holds its sandbox session. The
``execute`` tool declares its ``session`` argument for header mirroring (SEP-2243, ``x-mcp-header``), so a
2026-07-28 client sends the handle again as the ``Mcp-Param-Session`` HTTP header. A handle starts with the
name of the replica that made it (``r1.Xk3...``), so nginx, HAProxy or Envoy route each request on that
header to its replica (docs/deploy.md), and one that lands elsewhere is told where its session lives. An
idle session is parked in a directory the replicas share (:mod:`mcp_kernel.sandbox.parking`) and restored
by whichever replica its next call reaches: the one it was routed to, or another when that one is gone.

>>> replica_name("r1")
'r1'
"""

from __future__ import annotations

import json
import logging
import re
import socket
from pathlib import Path
from typing import Any

import anyio

from ..errors import UsageError
from ..paths import data_dir
from ..sandbox.parking import ParkingLot
from ..session import Session

__all__ = ["HEADER", "NamedSessionIds", "keep_parking", "nginx_conf", "park_sessions", "replica_name"]

log = logging.getLogger(__name__)

HEADER = "Session"  # execute's session argument, mirrored as Mcp-Param-Session

_NAME = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def replica_name(name: str | None = None) -> str:
    """A replica name fit for a handle: ``name`` (checked), or the host's name made fit."""
    if name:
        if not _NAME.fullmatch(name):
            raise UsageError(f"--replica takes 1 to 40 letters, digits and '-', got {name!r}")
        return name
    fit = re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname()).strip("-")[:40]
    return fit or "serve"


def park_sessions(
    session: Session, park_dir: str | None = None, replica: str | None = None
) -> ParkingLot | None:
    """Give ``session``'s sandbox sessions this replica's name and, unless ``park_dir`` is 'none', a parking
    lot (``park_dir``, else the serve_park_dir setting, else <data dir>/parked); the lot, or None."""
    settings = session.settings
    sessions = session.sandboxes
    sessions.replica = replica_name(replica if replica is not None else settings.serve_replica)
    where = park_dir if park_dir is not None else settings.serve_park_dir
    if where.strip().lower() == "none":
        return None
    lot = ParkingLot(
        Path(where).expanduser() if where else data_dir() / "parked",
        limit_mb_per_owner=settings.serve_park_limit_mb,
        expiry_s=settings.serve_park_expiry,
    )
    sessions.parking, sessions.park_after_s = lot, settings.serve_park_after
    return lot


async def keep_parking(session: Session) -> None:
    """Park (or close) idle sessions as they pass their idle time, so an idle serve frees their memory too,
    not only when the next request comes (a task of serve's lifespan): looks every half of the shortest idle
    time, between 1 and 30 seconds."""
    sessions = session.sandboxes
    limits = [x for x in (sessions.idle_timeout_s, sessions.park_after_s if sessions.parking else None) if x]
    every_s = max(1.0, min([30.0, *(limit / 2 for limit in limits)]))
    while True:
        await anyio.sleep(every_s)
        try:
            await anyio.to_thread.run_sync(sessions.expire)
        except Exception:  # never the end of serve: the next round tries again
            log.exception("parking idle sandbox sessions failed")


def nginx_conf(
    listen: int | str, replicas: dict[str, str], *, spread: str = "least_conn", resolver: str | None = None
) -> str:
    """An nginx configuration for serve ``replicas`` (``{name: "host:port"}``), listening on ``listen``.

    Each request goes to the replica named at the start of its ``Mcp-Param-Session`` header, else of its
    ``Mcp-Session-Id`` (a 2025-era client's protocol session, see :class:`NamedSessionIds`); a request
    with neither (a new session) to any, by ``spread`` (an nginx balancing method: ``least_conn``,
    ``random``); when a session's replica is down, to the others, which restore the session if it was parked
    in the directory they share, or say where it lives. ``resolver`` (a DNS server, e.g. Kubernetes'
    kube-dns) makes nginx (1.27.3 or later) look the replicas' names up again as pods come and go.
    docs/deploy.md shows it with two replicas.
    """
    for name in replicas:
        replica_name(name)  # UsageError for a name a handle cannot start with
    names = "\n".join(f"        ~^:?{name}\\.  {name};" for name in replicas)
    resolve = " resolve" if resolver else ""

    def zone(group: str) -> str:
        return f"        zone {group} 64k;\n" if resolver else ""

    groups = []
    for name, address in replicas.items():
        others = "".join(f"        server {a}{resolve} backup;\n" for n, a in replicas.items() if n != name)
        groups.append(
            f"    upstream {name} {{\n{zone(name)}"
            f"        server {address}{resolve} max_fails=1 fail_timeout=10s;\n{others}    }}"
        )
    spread_all = "".join(f"        server {a}{resolve};\n" for a in replicas.values())
    dns = f"    resolver {resolver} valid=10s;\n" if resolver else ""
    return f"""# mcp-kernel serve behind nginx: a session's requests go to the replica that made its handle.
events {{}}
http {{
{dns}    map "$http_mcp_param_session:$http_mcp_session_id" $serve_replica {{
{names}
        default  new_sessions;
    }}
{chr(10).join(groups)}
    upstream new_sessions {{  # no replica name has "_"
{zone("new_sessions")}        {spread};
{spread_all}    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://$serve_replica;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 3600s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class NamedSessionIds:
    """ASGI: the protocol sessions of 2025-era clients (``Mcp-Session-Id``) are named after this replica, as
    its handles are, so a load balancer routes them the same way.

    The SDK's id goes out as ``<replica>.<id>`` and comes back without the name. An id named after another
    replica gets 404 (a client initializes again on 404) saying where that session lives.
    """

    def __init__(self, app: Any, replica: str) -> None:
        self.app, self.replica = app, replica

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = []
        for key, value in scope["headers"]:
            if key == _SESSION_ID:
                name, dot, rest = value.decode("latin-1").partition(".")
                if dot and name != self.replica:
                    await _elsewhere(send, name, self.replica)
                    return
                value = rest.encode("latin-1") if dot else value
            headers.append((key, value))

        async def named(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    (k, f"{self.replica}.".encode() + v if k.lower() == _SESSION_ID else v)
                    for k, v in message.get("headers", [])
                ]
            await send(message)

        await self.app({**scope, "headers": headers}, receive, named)


_SESSION_ID = b"mcp-session-id"


async def _elsewhere(send: Any, name: str, replica: str) -> None:
    message = (
        f"This protocol session was opened on replica {name!r}, and this is {replica!r}: route on the "
        "Mcp-Session-Id header (docs/deploy.md), or initialize again."
    )
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""The analyst's workbench: ``slipcatch serve [CASE | OUT_DIR]`` (docs/workbench.md).

A local web application (Starlette on uvicorn) over a case store or an ``analyze --out``
directory: case overview, personas with a live server-side what-if, addresses, evidence,
a map, and notes stored in the case. Every request needs the token printed with the URL.

Public surface::

    serve(source, host="127.0.0.1", port=0, token=None, echo=print) -> None   (blocks)
    create_app(store, token) -> ASGI app;  open_store(source) -> Store
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from .app import COOKIE, create_app
from .store import Store, open_store

__all__ = ["COOKIE", "Store", "bind", "create_app", "open_store", "serve", "url_for"]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


def serve(
    source: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve the workbench until interrupted; ``echo`` gets the one line with the URL.

    Raises:
        CaseError: the source is neither a case with a run nor an output directory.
    """
    import uvicorn

    store = open_store(source)
    token = token or secrets.token_urlsafe(24)
    app = create_app(store, token)
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    echo(url_for(host, sock.getsockname()[1], token))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        store.close()

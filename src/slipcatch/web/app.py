"""The workbench's ASGI application (Starlette): pages, their ``.json`` twins, the what-if and
notes endpoints, and local static assets. See docs/workbench.md."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from slipcatch.errors import SlipcatchError

from . import views
from .store import NOTE_KINDS, EventFilter, Store
from .whatif import WhatIfRequest, recompute

__all__ = ["COOKIE", "create_app"]

COOKIE = "slipcatch_token"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_STATIC = Path(str(resources.files("slipcatch.web") / "static"))
_ASSETS = {
    "app.js": (_STATIC / "app.js", "text/javascript; charset=utf-8"),
    "style.css": (_STATIC / "style.css", "text/css; charset=utf-8"),
    "world-110m.json": (_STATIC / "world-110m.json", "application/json"),
    "world-110m.LICENSE.txt": (_STATIC / "world-110m.LICENSE.txt", "text/plain; charset=utf-8"),
}


def _plotly_js() -> Path:
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def _csp(nonce: str) -> str:
    # Plotly inserts a <style> element and sets style attributes: styles may be inline, scripts
    # may not (only files from here, with this response's nonce).
    return (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "font-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class TokenGate:
    """Refuses (403) every request that carries neither ``?token=`` nor the token cookie.

    A valid ``?token=`` sets the cookie (HttpOnly, SameSite=Strict, path /). Every response
    gets the security headers: CSP with a per-response nonce, no referrer (the URL holds the
    token), no framing, no sniffing, no caching.
    """

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token

    def _has(self, value: str | None) -> bool:
        return value is not None and secrets.compare_digest(value.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        by_query = self._has((query.get("token") or [None])[0])
        cookie_header = b"; ".join(v for k, v in scope.get("headers", []) if k == b"cookie")
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header.decode("latin-1"))
        except CookieError:  # a malformed cookie header is no token
            jar = SimpleCookie()
        by_cookie = COOKIE in jar and self._has(jar[COOKIE].value)
        nonce = secrets.token_urlsafe(16)
        headers = [
            (b"content-security-policy", _csp(nonce).encode()),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"cache-control", b"no-store"),
        ]
        if not (by_query or by_cookie):
            body = b"403 Forbidden: open the URL slipcatch serve printed (it carries the token)\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        *headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if by_query and not by_cookie:
            headers.append(
                (
                    b"set-cookie",
                    f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode(),
                )
            )
        scope.setdefault("state", {})["nonce"] = nonce

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, wrapped)


def _split(value: str) -> tuple[str, bool]:
    """(value without a trailing ``.json``, whether it had one)."""
    return (value[:-5], True) if value.endswith(".json") else (value, False)


def create_app(store: Store, token: str) -> ASGIApp:  # noqa: C901 - small route closures over one store
    """The workbench over ``store``; every request must carry ``token`` (see ``TokenGate``)."""
    env = Environment(
        loader=PackageLoader("slipcatch.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = views.duration

    # Pages are rendered with a placeholder nonce, replaced by the response's own: a page whose
    # data cannot change (a persona's, until its notes do) is rendered once and cached.
    placeholder = "nonce-placeholder-" + secrets.token_hex(16)
    pages: dict[tuple[Any, ...], str] = {}

    def render(request: Request, template: str, data: dict[str, Any], json_twin: bool,
               cache_key: tuple[Any, ...] | None = None) -> Response:
        if json_twin or request.query_params.get("format") == "json":
            return JSONResponse(data)
        nonce = request.scope.get("state", {}).get("nonce", "")
        html = pages.get(cache_key) if cache_key is not None else None
        if html is None:
            html = env.get_template(template).render(
                data=data, nonce=placeholder, writable=store.writable,
                source_kind=store.kind, case_name=views.case_title(store),
            )
            if cache_key is not None:
                if len(pages) > 256:
                    pages.clear()
                pages[cache_key] = html
        return Response(html.replace(placeholder, nonce), media_type="text/html; charset=utf-8")

    async def overview(request: Request) -> Response:
        twin = request.url.path in ("/.json", "/index.json")
        return render(request, "overview.html", await run_in_threadpool(views.overview, store),
                      twin)

    async def persona(request: Request) -> Response:
        pid, twin = _split(request.path_params["pid"])
        data = await run_in_threadpool(views.persona, store, pid)
        if data is None:
            return PlainTextResponse("no such persona", status_code=404)
        return render(request, "persona.html", data, twin, ("persona", pid, store.notes_version))

    async def address(request: Request) -> Response:
        ip, twin = _split(request.path_params["ip"])
        return render(request, "address.html", await run_in_threadpool(views.address, store, ip),
                      twin)

    async def evidence(request: Request) -> Response:
        twin = request.url.path.endswith(".json")
        q = request.query_params
        try:
            page = int(q.get("page", "1") or "1")
        except ValueError:
            page = 1
        flt = EventFilter(
            **{k: q.get(k, "")[:500] for k in (
                "persona", "channel", "category", "country", "src_ip", "text", "since", "until"
            )},
            page=max(1, min(page, 10**7)),
        )
        try:
            data = await run_in_threadpool(views.evidence, store, flt)
        except Exception as exc:  # a time that does not parse, for one
            if not _is_query_error(exc):
                raise
            return JSONResponse({"error": f"bad filter: {exc}"}, status_code=400)
        return render(request, "evidence.html", data, twin)

    async def event(request: Request) -> Response:
        eid, twin = _split(request.path_params["eid"])
        data = await run_in_threadpool(views.event, store, eid)
        if data is None:
            return PlainTextResponse("no such event", status_code=404)
        return render(request, "event.html", data, twin)

    async def world_map(request: Request) -> Response:
        twin = request.url.path.endswith(".json")
        data = await run_in_threadpool(
            views.world_map, store, request.query_params.get("persona", "")
        )
        return render(request, "map.html", data, twin)

    async def notes(request: Request) -> Response:
        found = await run_in_threadpool(store.notes)
        return JSONResponse({"writable": store.writable, "notes": found})

    async def add_note(request: Request) -> Response:
        if not store.writable:
            return JSONResponse({"error": "read-only: notes need a case store"}, status_code=409)
        try:
            body = await request.json()
            kind, target = str(body["target_kind"]), str(body["target_id"])
            tag, text = str(body.get("tag", "")), str(body.get("note", ""))
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected JSON with target_kind, target_id"}, 400)
        if kind not in NOTE_KINDS or not target or not (tag.strip() or text.strip()):
            return JSONResponse({"error": "a note needs a kind, a target and a tag or text"}, 400)
        note = await run_in_threadpool(store.add_note, kind, target, tag, text)
        return JSONResponse(note, status_code=201)

    async def delete_note(request: Request) -> Response:
        ok = await run_in_threadpool(store.delete_note, request.path_params["nid"])
        return JSONResponse({"deleted": ok}, status_code=200 if ok else 404)

    async def whatif(request: Request) -> Response:
        if store.assessment is None:
            return JSONResponse(
                {"error": "the what-if needs the case store: serve the case, not an output "
                 "directory"}, status_code=409)
        try:
            req = WhatIfRequest.from_json(await request.json())
            result = await run_in_threadpool(recompute, store.assessment, req)
        except ValueError:
            return JSONResponse({"error": "expected a JSON body"}, status_code=400)
        except SlipcatchError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(result)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            return FileResponse(_plotly_js(), media_type="text/javascript; charset=utf-8")
        if name not in _ASSETS:
            return PlainTextResponse("not found", status_code=404)
        path, media = _ASSETS[name]
        return FileResponse(path, media_type=media)

    routes = [
        Route("/", overview),
        Route("/.json", overview),
        Route("/index.json", overview),
        Route("/persona/{pid}", persona),
        Route("/address/{ip}", address),
        Route("/evidence", evidence),
        Route("/evidence.json", evidence),
        Route("/event/{eid}", event),
        Route("/map", world_map),
        Route("/map.json", world_map),
        Route("/notes.json", notes),
        Route("/api/notes", add_note, methods=["POST"]),
        Route("/api/notes/{nid}/delete", delete_note, methods=["POST"]),
        Route("/api/whatif", whatif, methods=["POST"]),
        Route("/static/{name}", static),
    ]
    return TokenGate(Starlette(routes=routes), token)


def _is_query_error(exc: Exception) -> bool:
    import duckdb

    return isinstance(exc, duckdb.Error)


def dumps(data: Any) -> str:
    """JSON for tests and the CLI."""
    return json.dumps(data, sort_keys=True)

"""Guided visits: a host opens one (planner token) and gets a join code and QR code; people join by WebSocket.

``POST /api/visits`` → code, join URL, host key, QR code (SVG). ``GET /api/visits/{code}`` and
``/api/visits/{code}/qr.svg`` are public (failed look-ups are rate-limited per address).
``/ws/visits/{code}?name=…&role=guest|spectator`` joins; ``&key=<host key>`` joins as the host,
``&resume=<token from welcome>`` comes back as the same person. Messages: :mod:`server.realtime.protocol`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from urllib.parse import quote

import segno
from fastapi import APIRouter, FastAPI, Path, Request, Response, WebSocket
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.websockets import WebSocketDisconnect

from server import planning
from server.auth import PlannerDep
from server.deps import BaseUrlDep, CtxDep
from server.models import Problem
from server.realtime import protocol as P
from server.realtime.service import Session, VisitService
from server.realtime.visits import Visit, VisitRefused
from server.store import NAME_PATTERN
from twin.errors import TwinError

log = logging.getLogger(__name__)
router = APIRouter(tags=["visits"])
Code = Annotated[str, Path(max_length=16)]
HTTP_STATUS = {4404: 404, 4429: 429, 4410: 404}


class VisitIn(BaseModel):
    """What the host asks for: the scene, and the state the visit starts in."""

    scene: str = Field(pattern=NAME_PATTERN, max_length=64)
    variant: str | None = Field(None, max_length=64)
    date: str | None = Field(None, max_length=40)
    mode: Literal["tabletop", "street"] = "tabletop"
    on_host_leave: Literal["handover", "end"] = "handover"


def service(app: FastAPI) -> VisitService:
    """The app's visit service, made on first use from its settings."""
    svc: VisitService | None = getattr(app.state, "visits", None)
    if svc is None:
        settings = app.state.ctx.settings
        if settings.workers > 1 and not settings.redis_url:
            log.warning("guided visits need TWIN_REDIS_URL with several workers: each worker sees only its own")
        svc = VisitService(settings.redis_url, settings.visit_grace_seconds)
        app.state.visits = svc
    return svc


def join_url(base: str, visit: Visit) -> str:
    """The viewer link that joins ``visit``."""
    return f"{base}?id={quote(visit.scene)}&visit={visit.code}"


def qr_svg(url: str) -> str:
    """A QR code of ``url`` as SVG text."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue().decode("utf-8")


@contextlib.asynccontextmanager
async def _answering() -> AsyncIterator[None]:
    """Refusals as 404/429, and a store that cannot be reached (Redis down) as 503, all problem+json."""
    try:
        yield
    except VisitRefused as exc:
        headers = {"Retry-After": "60"} if exc.close_code == 4429 else None
        raise HTTPException(HTTP_STATUS.get(exc.close_code, 400), exc.detail, headers) from None
    except (HTTPException, TwinError):
        raise
    except Exception as exc:
        log.exception("visits unavailable")
        raise HTTPException(503, "visits are unavailable right now; try again shortly", {"Retry-After": "5"}) from exc


async def _find(request: Request, code: str) -> Visit:
    async with _answering():
        return await service(request.app).lookup(code, request.client.host if request.client else "?")


@router.post(
    "/api/visits",
    status_code=201,
    responses={401: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
    summary="Open a guided visit (host or planner token)",
)
async def open_visit(body: VisitIn, request: Request, who: PlannerDep, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """A new visit of a scene the caller may work on: join code, links, the host key (shown once), QR code."""
    planning.scene_for(ctx, who, body.scene)
    async with _answering():
        visit, key = await service(request.app).open(
            body.scene, who.name, body.variant, body.date, body.mode, body.on_host_leave
        )
    join = join_url(base, visit)
    return {
        "code": visit.code,
        "scene": visit.scene,
        "join_url": join,
        "host_key": key,
        "host_url": f"{join}&host={key}",
        "websocket": f"/ws/visits/{visit.code}",
        "qr_svg": qr_svg(join),
        "state": visit.state(),
    }


@router.get("/api/visits/{code}", responses={404: {"model": Problem}, 429: {"model": Problem}}, summary="A visit")
async def visit_info(code: Code, request: Request) -> dict[str, Any]:
    """Whether a join code is open, for which scene, in which state, and how many are in."""
    visit = await _find(request, code)
    here = sum(p.online for p in visit.people.values())
    return {"code": visit.code, "scene": visit.scene, "state": visit.state(), "people": here}


@router.get(
    "/api/visits/{code}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, 404: {"model": Problem}, 429: {"model": Problem}},
    summary="The join QR code",
)
async def visit_qr(code: Code, request: Request, base: BaseUrlDep) -> Response:
    """The QR code of the join link, for a screen or a printout."""
    visit = await _find(request, code)
    return Response(qr_svg(join_url(base, visit)), media_type="image/svg+xml")


@router.websocket("/ws/visits/{code}")
async def visit_socket(ws: WebSocket, code: str) -> None:
    """One person in a visit: welcome, then messages both ways until either side closes."""
    await ws.accept()
    svc = service(ws.app)
    q = ws.query_params
    try:
        session, welcome = await svc.connect(
            code,
            ws.client.host if ws.client else "?",
            q.get("name", "")[:200],
            q.get("role", "guest"),
            q.get("key"),
            q.get("resume"),
        )
    except VisitRefused as exc:
        await ws.send_text(P.error(exc.reason, exc.detail))
        await ws.close(exc.close_code, exc.reason)
        return
    except Exception:  # the shared store is unreachable: say so instead of dropping the socket
        log.exception("visit %s: could not admit a connection", code[:16])
        await ws.send_text(P.error("unavailable", "visits are unavailable right now; try again shortly"))
        await ws.close(1011)
        return
    await ws.send_text(welcome)
    pump = asyncio.create_task(_pump(ws, session))
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            await svc.receive(session, text if text is not None else message.get("bytes") or b"")
    except (WebSocketDisconnect, RuntimeError):
        pass
    except Exception:  # e.g. Redis unreachable: this connection ends (1011), the others and the server go on
        log.exception("visit %s: closing a connection after an error", session.code)
        with contextlib.suppress(Exception):
            await ws.close(1011)
    finally:
        pump.cancel()
        try:
            await svc.disconnect(session)
        except Exception:
            log.exception("visit %s: could not mark %s away", session.code, session.person)


async def _pump(ws: WebSocket, session: Session) -> None:
    """Send what the session has for its connection; close it when the session says so."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while (text := await session.next()) is not None:
            await ws.send_text(text)
        await ws.close(session.close_code)

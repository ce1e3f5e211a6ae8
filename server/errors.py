"""Errors as ``application/problem+json`` (RFC 9457), with one table from twin.errors to HTTP status.

Handlers never build error responses themselves: they raise a :class:`twin.errors.TwinError` subclass (or
FastAPI's validation fails) and the handlers installed by :func:`install` answer.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import sandbox
from twin import errors as E
from twin.storage import ObjectStoreUnavailable

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


class Unauthenticated(E.PermissionDenied):
    """No bearer token, or one that is unknown or revoked."""


class PayloadTooLarge(E.DesignError):
    """An upload is larger than the configured limit (or would unpack to more than it)."""


class BadRequest(E.TwinError):
    """A request parameter is malformed (a bbox that is not four numbers, a bad path)."""


class Unprocessable(E.TwinError):
    """A well-formed request whose content breaks a rule (text only blanks, a position outside the scene)."""


class TooManyRequests(E.TwinError):
    """A client or a scene sent more than its rate allows; try again later."""


class InsufficientStorage(E.StoreError):
    """The disk is full, or a scene's quota (bytes or uploads) would be passed."""


class StorageUnavailable(E.StoreError):
    """The data directory cannot be written (read-only file system, permissions): an operator must act."""


#: errno values of a full disk or quota (507) and of storage that cannot be written (503).
FULL_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG))
READONLY_ERRNOS = frozenset((errno.EROFS, errno.EACCES, errno.EPERM))


#: twin.errors class -> HTTP status; the most specific class in a raised error's MRO wins.
STATUS_CODES: dict[type[Exception], int] = {
    Unauthenticated: 401,
    PayloadTooLarge: 413,
    BadRequest: 400,
    Unprocessable: 422,
    TooManyRequests: 429,
    InsufficientStorage: 507,
    StorageUnavailable: 503,
    ObjectStoreUnavailable: 503,
    E.PermissionDenied: 403,
    E.NotFound: 404,
    E.Conflict: 409,
    E.UnsupportedFormat: 415,
    E.DesignError: 422,
    E.ManifestError: 422,
    E.SourceError: 422,
    E.CRSError: 422,
    E.InvalidGeometry: 422,
    sandbox.SandboxError: 422,
    E.BuildError: 409,
    E.StoreError: 500,
    E.TwinError: 400,
}

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}


def status_for(exc: BaseException) -> int:
    """The HTTP status for a twin error: the first class of its MRO found in :data:`STATUS_CODES`."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def problem_body(status: int, detail: str, instance: str = "", **extra: Any) -> dict[str, Any]:
    """The problem+json document for ``status``."""
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem(
    status: int, detail: str, instance: str = "", headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    return JSONResponse(
        problem_body(status, detail, instance, **extra), status_code=status, media_type=PROBLEM, headers=headers
    )


def storage_error(exc: BaseException) -> E.StoreError | None:
    """A full or unwritable disk behind ``exc`` (itself or its causes) as a clear store error, else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, InsufficientStorage | StorageUnavailable):
            return seen
        if isinstance(seen, OSError) and seen.errno in FULL_ERRNOS:
            return InsufficientStorage("the server's disk is full; nothing was stored, try again later")
        if isinstance(seen, OSError) and seen.errno in READONLY_ERRNOS:
            return StorageUnavailable("the server's data directory is read-only; nothing was stored")
        if isinstance(seen, sqlite3.OperationalError):
            text = str(seen).lower()
            if "full" in text:
                return InsufficientStorage("the server's disk is full; nothing was stored, try again later")
            if "readonly" in text or "read-only" in text or "unable to open" in text:
                return StorageUnavailable("the server's database cannot be written; nothing was stored")
        seen = seen.__cause__ or seen.__context__
    return None


async def _twin_error(request: Request, exc: Exception) -> JSONResponse:
    storage = storage_error(exc)
    if storage is not None and storage is not exc:
        log.error("storage failure on %s: %s", request.url.path, exc)
        exc = storage
    status = status_for(exc)
    if status >= 500:
        log.error("%s on %s", exc, request.url.path, exc_info=exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, str(exc) or type(exc).__name__, request.url.path, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
    return problem(422, f"invalid request: {where}", request.url.path, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), request.url.path, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return await _storage_or_unexpected(request, exc)


async def _storage_or_unexpected(request: Request, exc: Exception) -> JSONResponse:
    storage = storage_error(exc)
    if storage is None:
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return problem(500, "internal error", request.url.path)
    return await _twin_error(request, storage)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with problem+json."""
    app.add_exception_handler(E.TwinError, _twin_error)
    app.add_exception_handler(OSError, _storage_or_unexpected)
    app.add_exception_handler(sqlite3.OperationalError, _storage_or_unexpected)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

"""Design uploads: streamed to a temp folder under a size limit, checked by parsing, then moved in whole.

Nothing is left half-stored: the file is written under ``<data_dir>/tmp/``, checked by
:func:`twin.designs.check_design` (format by content, no external references, declared sizes that would
unpack beyond the limit refused before anything unpacks, then a full parse), and only a good upload is
renamed to ``<data_dir>/uploads/<id>/`` and recorded in the database. Any failure removes the temp folder.
Everything past the format sniff runs in :mod:`server.sandbox` (a child process with memory, CPU and
wall-time limits): a file that crashes, hangs or exhausts a native reader fails its upload with a 422, and
the server goes on serving.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from server import sandbox
from server.errors import PayloadTooLarge
from server.settings import Settings
from server.storage import Database, new_id
from twin.errors import DesignError, DesignTooLarge, TwinError, UnsupportedFormat

#: Upload formats by their first bytes; compressed files, zips other than ifcZIP and anything unknown are
#: refused (415).
EXTENSIONS = {"glb": ".glb", "gltf": ".gltf", "ifc": ".ifc", "ifczip": ".ifczip", "obj": ".obj", "citygml": ".gml"}
#: What reads each format, as errors name it ("the IFC reader crashed on this file").
READERS = {
    "glb": "glTF reader",
    "gltf": "glTF reader",
    "ifc": "IFC reader",
    "ifczip": "IFC reader",
    "obj": "OBJ reader",
    "citygml": "CityGML reader",
}

#: The twin.designs module that reads each format (imported before the sandbox measures the child).
MODULES = {"glb": "gltf", "gltf": "gltf", "ifc": "ifc", "ifczip": "ifc", "obj": "obj", "citygml": "citygml"}


def reader_limits(settings: Settings) -> sandbox.Limits:
    """The sandbox limits for checking one design file."""
    return sandbox.Limits(
        memory_bytes=settings.reader_memory_bytes,
        cpu_seconds=settings.reader_cpu_seconds,
        wall_seconds=settings.reader_wall_seconds,
        concurrency=settings.reader_concurrency,
    )


def safe_filename(name: str) -> str:
    """A display name without path parts or odd characters (the stored file gets its own name)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .")[:120]
    return base or "design"


def sniff(path: Path) -> str:
    """The design format by content; compressed files are refused, zips unless they are ifcZIP (one IFC)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"\x1f\x8b") or head.startswith(b"BZh"):
        raise UnsupportedFormat("archives and compressed files are not accepted: upload the design file itself")
    from twin.designs import sniff as twin_sniff

    try:
        return twin_sniff(path)
    except DesignError as exc:
        raise UnsupportedFormat(str(exc)) from exc


def check_design(path: Path, max_inflated: int, title: str) -> tuple[str, dict[str, Any]]:
    """Check a design file with :func:`twin.designs.check_design`; returns (format, info).

    An upload is one file, so a glTF may name no other; a design declaring more than ``max_inflated`` bytes
    is a 413. Raises a :class:`TwinError` subclass.
    """
    from twin.designs import check_design as twin_check

    sniff(path)  # archives and unknown formats are refused as such (415), before any parsing
    try:
        info = twin_check(path, name=title, self_contained=True, max_declared=max_inflated)
    except DesignTooLarge as exc:
        raise PayloadTooLarge(str(exc)) from exc
    return info.format, info.to_dict()


def check_file(path: str, max_inflated: int, title: str) -> list[Any]:
    """:func:`check_design` with JSON in and out: what :func:`check_sandboxed` runs in the child."""
    fmt, info = check_design(Path(path), max_inflated, title)
    return [fmt, info]


def check_sandboxed(
    path: Path, fmt: str, max_inflated: int, title: str, limits: sandbox.Limits
) -> tuple[str, dict[str, Any]]:
    """:func:`check_design` in a sandboxed child; a reader that crashes or runs out of limits is a 422."""
    reader = READERS.get(fmt, "design reader")
    preload = (f"twin.designs.{MODULES[fmt]}",) if fmt in MODULES else ()
    fmt, info = sandbox.run(
        "server.uploads:check_file",
        str(path),
        max_inflated,
        title,
        limits=limits,
        label=title,
        reader=reader,
        preload=preload,
    )
    return str(fmt), dict(info)


async def store_upload(
    db: Database,
    data_dir: Path,
    scene: str,
    filename: str,
    chunks: AsyncIterator[bytes],
    max_bytes: int,
    max_inflated: int,
    declared_length: int | None = None,
    limits: sandbox.Limits | None = None,
    quota: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Stream ``chunks`` to disk, check the design, move it in and record it; returns the upload row.

    ``quota`` (the scene's most uploads and bytes) is checked again as the row is written, atomically.
    """
    if declared_length is not None and declared_length > max_bytes:
        raise PayloadTooLarge(f"upload of {declared_length:,} bytes exceeds the limit of {max_bytes:,}")
    upload = new_id("u")
    tmp = Path(data_dir) / "tmp" / upload
    tmp.mkdir(parents=True)
    name = safe_filename(filename)
    try:
        raw = tmp / "upload.bin"
        size, sha = await _receive(chunks, raw, max_bytes)
        if size == 0:
            raise DesignError("the upload is empty")
        limits = limits or sandbox.Limits()
        fmt, info = await anyio.to_thread.run_sync(_check_and_rename, raw, max_inflated, name, limits)
        target = Path(data_dir) / "uploads" / upload
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        try:
            db.uploads.add(upload, scene, name, fmt, size, sha, info, quota)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return db.uploads.get(upload)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_and_rename(raw: Path, max_inflated: int, title: str, limits: sandbox.Limits) -> tuple[str, dict[str, Any]]:
    named = raw
    try:
        fmt = sniff(raw)
        # Readers pick sub-formats by suffix (trimesh), so give the file the extension of its content.
        named = raw.with_name("design" + EXTENSIONS[fmt])
        os.replace(raw, named)
        _, info = check_sandboxed(named, fmt, max_inflated, title, limits)
    except TwinError as exc:
        # Name the planner's file, never the server's temp paths.
        msg = str(exc)
        for internal in (str(named), str(raw), named.name, raw.name):
            msg = msg.replace(internal, title)
        raise type(exc)(msg) from exc
    return fmt, info


def upload_file(data_dir: Path, row: dict[str, Any]) -> Path:
    """The stored design file of an upload row."""
    return Path(data_dir) / "uploads" / row["id"] / ("design" + EXTENSIONS[row["format"]])


async def _receive(chunks: AsyncIterator[bytes], path: Path, max_bytes: int) -> tuple[int, str]:
    size = 0
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"upload exceeds the limit of {max_bytes:,} bytes")
            sha.update(chunk)
            f.write(chunk)
    return size, sha.hexdigest()

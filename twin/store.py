"""Writing build output: content-addressed blobs and atomically replaced files.

The only module of the builder that writes files. Blobs are immutable and named by a hash of their bytes, so
tiles shared between variants and builds are stored once, and a crash can only leave unreferenced blobs behind,
never a tileset that points at a missing or half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from .errors import StoreError

#: Hex digits of SHA-256 kept in blob names (128 bits: collisions are not a practical concern).
HASH_DIGITS = 32


def blob_name(data: bytes, suffix: str = ".glb") -> str:
    """The content-addressed file name of ``data``."""
    return hashlib.sha256(data).hexdigest()[:HASH_DIGITS] + suffix


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one, never a part."""
    write_stream_atomic(path, lambda f: f.write(data))


def write_stream_atomic(path: Path, writer: Callable[[BinaryIO], object]) -> None:
    """Like :func:`write_atomic`, but ``writer(file)`` streams the content (for files too big to hold)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from exc


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON (compact, UTF-8) atomically."""
    write_atomic(path, json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def write_blob(blob_dir: Path, data: bytes, suffix: str = ".glb") -> str:
    """Store ``data`` under its hash in ``blob_dir`` (once) and return its file name."""
    name = blob_name(data, suffix)
    path = blob_dir / name
    if not path.exists():
        write_atomic(path, data)
    return name


def adopt_blobs(names: Iterable[str], src_dir: Path, dst_dir: Path) -> bool:
    """Make blobs of an earlier build available in ``dst_dir`` (hard links, copies across file systems).

    Returns False if any blob is missing in both folders (the earlier build cannot be reused then).
    """
    dst_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        dst = dst_dir / name
        if dst.exists():
            continue
        src = src_dir / name
        if not src.exists():
            return False
        try:
            os.link(src, dst)
        except FileExistsError:
            pass
        except OSError:
            write_atomic(dst, src.read_bytes())
    return True

"""ifcZIP archives: find the one IFC file inside and unpack it under a size limit (no IfcOpenShell here)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from twin.errors import DesignError, DesignTooLarge

#: Largest IFC an archive may unpack to when the caller sets no limit (bytes): a building, not a city.
MAX_UNZIPPED = 1 << 30
#: Largest unpacked/packed ratio: IFC text packs about 5-15x; far more is a compression bomb.
MAX_RATIO = 200
#: Suffixes of IFC data inside an archive (ifcXML is named, to be refused as such).
IFC_SUFFIXES = (".ifc", ".ifcxml")


def ifc_member(path: Path) -> zipfile.ZipInfo:
    """The one ``.ifc`` file of an ifcZIP archive, from its central directory (nothing is unpacked).

    Raises :class:`DesignError` for an unreadable archive, one holding no IFC or several, or an ifcXML.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DesignError(f"{path.name}: a zip archive that cannot be read: {exc}") from exc
    members = [
        i
        for i in infos
        if not i.is_dir()
        and PurePosixPath(i.filename).suffix.lower() in IFC_SUFFIXES
        and not PurePosixPath(i.filename).name.startswith("._")  # macOS resource forks beside the real file
        and "__MACOSX" not in PurePosixPath(i.filename).parts
    ]
    if not members:
        listed = ", ".join(i.filename for i in infos[:5]) or "nothing"
        raise DesignError(f"{path.name}: a zip archive without an IFC file (it holds {listed}); upload an ifcZIP")
    if len(members) > 1:
        names = ", ".join(i.filename for i in members[:5])
        raise DesignError(
            f"{path.name}: the archive holds {len(members)} IFC files ({names}); an ifcZIP holds exactly one"
        )
    member = members[0]
    if member.filename.lower().endswith(".ifcxml"):
        raise DesignError(f"{path.name}: {member.filename} is ifcXML, which is not supported; export IFC (.ifc)")
    if member.flag_bits & 0x1:
        raise DesignError(f"{path.name}: {member.filename} is encrypted; upload it without a password")
    return member


def check_size(path: Path, member: zipfile.ZipInfo, limit: int) -> None:
    """Refuse a member declaring more than ``limit`` bytes, or packed far tighter than IFC text packs."""
    if member.file_size > limit:
        raise DesignTooLarge(
            f"{path.name}: {member.filename} unpacks to {member.file_size:,} bytes, more than the limit of {limit:,}"
        )
    if member.file_size > MAX_RATIO * max(member.compress_size, 1) and member.file_size > 1 << 20:
        raise DesignTooLarge(
            f"{path.name}: {member.filename} unpacks {member.file_size // max(member.compress_size, 1):,} times "
            "its packed size (a compression bomb)"
        )


@contextmanager
def unzipped(path: Path, limit: int = MAX_UNZIPPED) -> Iterator[Path]:
    """The IFC file of an ifcZIP, unpacked into a temporary folder as ``design.ifc`` (removed afterwards).

    The member's own name is never used as a path (no zip-slip); unpacking stops at its declared size,
    which is checked against ``limit`` first, and zipfile's CRC check refuses a member that lies.
    """
    member = ifc_member(path)
    check_size(path, member, limit)
    folder = Path(tempfile.mkdtemp(prefix="twin-ifczip-"))
    try:
        target = folder / "design.ifc"
        try:
            with zipfile.ZipFile(path) as zf, zf.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise DesignError(f"{path.name}: {member.filename} cannot be unpacked: {exc}") from exc
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)

"""One error hierarchy for the whole library.

Everything twin/ raises on purpose derives from :class:`TwinError`; the server maps each subclass to an HTTP
status in one table (``server/errors.py``). Problems with single features during a build are *not* raised:
they are collected into the build report so one broken building never stops a city.
"""

from __future__ import annotations


class TwinError(Exception):
    """Base class of every error raised by twin/."""


class SourceError(TwinError):
    """A source file cannot be read: missing, unreadable, or not the format it claims to be."""


class UnsupportedFormat(SourceError):
    """The file format is not one twin/ can read."""


class CRSError(TwinError):
    """A coordinate reference system is unknown or a transformation is impossible."""


class InvalidGeometry(TwinError):
    """A geometry is broken beyond repair (empty, NaN, zero area, absurd extent)."""


class InvalidFootprint(InvalidGeometry):
    """A building footprint cannot be repaired into a valid polygon."""


class ManifestError(TwinError):
    """A scene manifest is missing, malformed or names something that does not exist."""


class BuildError(TwinError):
    """A build cannot run or cannot finish (no buildings, output not writable, ...)."""


class Cancelled(BuildError):
    """The build was cancelled by its caller."""


class DesignError(TwinError):
    """A planning design cannot be imported, georeferenced or placed."""


class DesignTooLarge(DesignError):
    """A design file declares more data than the caller allows (a compression bomb, or too big for a scene)."""


class StoreError(TwinError):
    """The tile store cannot read or write an object."""


class NotFound(TwinError):
    """A scene, variant, design, build or object does not exist (or is not visible to the caller)."""


class Conflict(TwinError):
    """The request conflicts with the current state (a build already running, a name taken)."""


class PermissionDenied(TwinError):
    """The caller's role does not allow this action."""

"""Readers: one streaming iterator per source format, each yielding :class:`twin.records.Building`.

Every reader has the signature ``read_xxx(path, *, options: ReaderOptions, report: Report, source: str)
-> Iterator[Building]``. Records come out in the source's CRS (``Building.crs``); unreadable files raise
:class:`twin.errors.SourceError`, single broken features are skipped into the report.

:mod:`.registry` is the one table of source kinds (name, suffixes, content sniff, reader); readers do not
import each other, they share :mod:`.clean`, :mod:`.osmbuildings`, :mod:`.osmtags` and :mod:`.gmlcrs`.
"""

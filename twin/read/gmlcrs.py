"""GML ``srsName`` values → CRS strings that pyproj accepts.

CityGML files name their CRS in many spellings: plain ``EPSG:25832``, OGC URNs
(``urn:ogc:def:crs:EPSG::25832``), OGC http URIs (``http://www.opengis.net/def/crs/EPSG/0/25832``), compound
URNs (``urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5783``), compound http URIs
(``http://www.opengis.net/def/crs-compound?1=…&2=…``) and the German AdV names
(``urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH*GCG2016``), which pyproj does not know. Everything is normalised
to ``"EPSG:h"`` or ``"EPSG:h+v"`` so records from different files compare equal.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyproj

from twin.errors import CRSError

#: AdV horizontal CRS names (GeoInfoDok "CRS-Kennungen") → EPSG codes.
_ADV_HORIZONTAL = {
    "ETRS89_UTM31": 25831,
    "ETRS89_UTM32": 25832,
    "ETRS89_UTM33": 25833,
    "DE_DHDN_3GK2": 31466,
    "DE_DHDN_3GK3": 31467,
    "DE_DHDN_3GK4": 31468,
    "DE_DHDN_3GK5": 31469,
    "ETRS89_LAT-LON": 4258,
}
#: AdV height systems → EPSG vertical CRS codes. ``DE_DHHN2016_NH`` is DHHN2016 normal heights.
_ADV_VERTICAL = {
    "DE_DHHN2016_NH": 7837,
    "DE_DHHN92_NH": 5783,
}

# "EPSG::25832", "EPSG:25832", "EPSG:6.12:25832", "EPSG/0/25832", "epsg.xml#25832"
_EPSG_CODE = re.compile(r"EPSG(?:\.xml#|[:/]+(?:[\w.]*[:/]+)?)(\d+)", re.IGNORECASE)


@lru_cache(maxsize=64)
def parse_srs_name(srs_name: str) -> str:
    """The pyproj CRS string for a GML ``srsName``: ``"EPSG:25832"`` or ``"EPSG:25832+7837"``.

    Raises :class:`twin.errors.CRSError` naming the value when it cannot be interpreted or pyproj does not
    know the result.
    """
    name = srs_name.strip()
    if not name:
        raise CRSError("empty srsName")
    codes = _adv_codes(name) if name.lower().startswith("urn:adv:crs:") else _epsg_codes(name)
    if not codes:
        # Not an EPSG spelling we know; let pyproj try (WKT, PROJ strings, "OGC:CRS84", ...).
        try:
            crs = pyproj.CRS(name)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"unknown srsName {srs_name!r}") from exc
        epsg = crs.to_epsg()
        return f"EPSG:{epsg}" if epsg is not None else crs.to_string()
    result = "EPSG:" + "+".join(str(c) for c in codes)
    try:
        pyproj.CRS(result)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"srsName {srs_name!r} gives {result!r}, which pyproj does not know") from exc
    return result


def _epsg_codes(name: str) -> list[int]:
    """EPSG codes in an OGC URN or URI, the horizontal one first (at most two)."""
    codes = [int(c) for c in _EPSG_CODE.findall(name)]
    return codes[:2]


def _adv_codes(name: str) -> list[int]:
    """EPSG codes for an AdV CRS name ``urn:adv:crs:<horizontal>[*<vertical>[*<geoid model>]]``."""
    parts = name[len("urn:adv:crs:") :].split("*")
    horizontal = _ADV_HORIZONTAL.get(parts[0].upper())
    if horizontal is None:
        raise CRSError(f"unknown AdV CRS {parts[0]!r} in srsName {name!r}")
    codes = [horizontal]
    if len(parts) > 1:
        vertical = _ADV_VERTICAL.get(parts[1].upper())
        if vertical is None:
            raise CRSError(f"unknown AdV height system {parts[1]!r} in srsName {name!r}")
        codes.append(vertical)
    # parts[2] is the quasigeoid model (GCG2016); it does not change the height system.
    return codes


@lru_cache(maxsize=64)
def is_lat_lon(srs_name: str) -> bool:
    """True when coordinates under this ``srsName`` come latitude first and must be swapped to (x, y).

    twin keeps every coordinate in (east, north) order, as pyproj's ``always_xy``. GML follows the EPSG
    axis order for URN and http spellings, which is latitude first for geographic CRSs (JGD2011 in the
    Japanese PLATEAU models, ETRS89 lat-lon in AdV data). Projected CRSs are written easting first in
    practice even where EPSG says otherwise (DHDN Gauss-Krüger), and a short ``EPSG:4326`` is usually
    longitude first, so only geographic CRSs named by URN, URI or AdV name are swapped.
    """
    name = srs_name.strip().lower()
    if not name.startswith(("urn:", "http://", "https://")):
        return False
    crs = pyproj.CRS(parse_srs_name(srs_name))
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    return bool(horizontal.is_geographic) and horizontal.axis_info[0].direction == "north"

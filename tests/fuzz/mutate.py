"""Hypothesis strategies that turn real seed files into hostile variants: byte, JSON and XML mutations.

Byte mutations (flip, truncate, splice, repeat, insert, nest) know nothing of the format; the JSON and XML
mutations parse the seed, change one node of the tree (drop it, repeat it, give it another type, an absurd
number, a nesting thousands of levels deep) and write it back, so the damage reaches past the parser into
the reader's own logic. Every strategy keeps its output under :data:`MAX_SIZE`.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from hypothesis import strategies as st
from lxml import etree

#: Largest mutated input (bytes): big enough for repeats and deep nesting, small enough to stay fast.
MAX_SIZE = 4_000_000
#: Values that break parsers: boundaries, non-numbers, control bytes, huge and negative sizes.
INTERESTING = (
    b"\x00",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x80",
    b"\xff\xff\xff\x7f",
    b"-1",
    b"0",
    b"1e309",
    b"-1e309",
    b"NaN",
    b"nan",
    b"inf",
    b"9" * 40,
    b"9" * 5000,
    b"\xef\xbb\xbf",
    b"\xc3\x28",
    b'"',
    b"<",
    b"]]>",
    b"&",
    b"{",
    b"[",
    b"#",
    b"\n",
)
#: Nesting depths tried: around Python's recursion limit and the limits of libxml2 and json.
DEPTHS = (64, 257, 999, 1001, 3000, 10_000, 100_000)


def _cap(data: bytes) -> bytes:
    return data[:MAX_SIZE]


@st.composite
def byte_mutation(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with one to four byte-level mutations applied in turn."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "truncate", "splice", "repeat", "insert", "delete", "nest")))
        n = len(data)
        at = draw(st.integers(0, max(n - 1, 0)))
        if op == "flip" and n:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "splice" and n:
            start = draw(st.integers(0, n - 1))
            piece = bytes(data[start : start + draw(st.integers(1, 256))])
            data[at:at] = piece
        elif op == "repeat" and n:
            piece = bytes(data[at : at + draw(st.integers(1, 64))])
            data[at:at] = piece * draw(st.integers(2, 2000))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(INTERESTING))
        elif op == "delete" and n:
            del data[at : at + draw(st.integers(1, 512))]
        elif op == "nest":
            opener, closer = draw(st.sampled_from(((b"[", b"]"), (b"{", b"}"), (b"<a>", b"</a>"), (b"(", b")"))))
            depth = draw(st.sampled_from(DEPTHS))
            data[at:at] = opener * depth + closer * draw(st.sampled_from((0, depth)))
        if len(data) > MAX_SIZE:
            del data[MAX_SIZE:]
    return bytes(data)


# --- JSON ---------------------------------------------------------------------------------------------


def _nest_marker(depth: int, kind: str) -> str:
    """A placeholder string that :func:`json_mutation` replaces by ``depth`` levels of nesting."""
    return f"@@nest:{depth}:{kind}@@"


def _expand_nesting(text: str) -> str:
    # json.dumps itself refuses deep nesting (RecursionError), so the nesting is written as text.
    def nested(match: re.Match[str]) -> str:
        depth, kind = int(match.group(1)), match.group(2)
        opener, closer = ("[", "]") if kind == "list" else ('{"a":', "}")
        return opener * depth + "0" + closer * depth

    return re.sub(r'"@@nest:(\d+):(list|dict)@@"', nested, text)


def _json_values() -> st.SearchStrategy[Any]:
    """Replacement values: wrong types, absurd numbers, long strings."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from((0, -1, 2**31, 2**63, -(2**63), 10**30, 1e308, -1e308, float("nan"), float("inf"))),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.text(max_size=20),
        st.sampled_from(("", "a" * 100_000, "way/1", "#", "data:", "../x", "http://127.0.0.1/", "EPSG:99999")),
        st.just([]),
        st.just({}),
        st.lists(st.integers(-5, 5), max_size=4),
    )


def _containers(doc: Any) -> list[Any]:
    """Every list and dict in ``doc`` (document order, the root first)."""
    out: list[Any] = []
    stack = [doc]
    while stack and len(out) < 20_000:
        node = stack.pop()
        if isinstance(node, dict):
            out.append(node)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            out.append(node)
            stack.extend(reversed(node))
    return out


@st.composite
def json_mutation(draw: st.DrawFn, seed: Any) -> bytes:
    """``seed`` (a decoded JSON document, not changed) with one to three nodes changed, as bytes.

    Output is JSON as Python writes it (``NaN`` and ``Infinity`` included: real-world files have them).
    """
    doc = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(1, 3))):
        nodes = _containers(doc)
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        keys: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
        op = draw(st.sampled_from(("replace", "delete", "repeat", "nest", "nest", "add")))
        if not keys:
            op = "add"
        key = draw(st.sampled_from(keys)) if keys else None
        if op == "replace":
            node[key] = draw(_json_values())
        elif op == "delete":
            del node[key]
        elif op == "repeat" and isinstance(node, list):
            node[key:key] = [node[key]] * draw(st.integers(1, 3000))
        elif op == "nest":
            node[key] = _nest_marker(draw(st.sampled_from(DEPTHS)), draw(st.sampled_from(("list", "dict"))))
        elif isinstance(node, dict):
            node[draw(st.sampled_from(("type", "id", "crs", "uri", "count", "byteLength", "x")))] = draw(_json_values())
        else:
            node.append(draw(_json_values()))
    return _cap(_expand_nesting(json.dumps(doc)).encode())


# --- XML ----------------------------------------------------------------------------------------------

#: Attribute names that steer readers (CRS, dimensions, references, ids).
XML_ATTRIBUTES = (
    "srsName",
    "srsDimension",
    "{http://www.w3.org/1999/xlink}href",
    "{http://www.opengis.net/gml}id",
    "orientation",
    "lat",
    "lon",
    "ref",
    "id",
    "k",
    "v",
)
XML_TEXTS = ("", "1 2", "1 2 3 4", "nan nan nan", "1e309 0 0", "-1", "a b c", "0 " * 3000, "9" * 400, "#x")


@st.composite
def xml_mutation(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` (XML bytes) with one to three elements changed: dropped, repeated, nested, re-texted."""
    root = etree.fromstring(seed, parser=etree.XMLParser(huge_tree=True, resolve_entities=False))
    for _ in range(draw(st.integers(1, 3))):
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        el = elements[draw(st.integers(0, len(elements) - 1))]
        parent = el.getparent()
        op = draw(st.sampled_from(("drop", "repeat", "nest", "text", "attribute", "attribute", "move")))
        if op == "drop" and parent is not None:
            parent.remove(el)
        elif op == "repeat" and parent is not None:
            at = parent.index(el)
            # At most about 50,000 elements added, so one example stays fast.
            size = sum(1 for _ in zip(el.iter(), range(50_000), strict=False))
            for _ in range(min(draw(st.integers(1, 500)), max(1, 50_000 // size))):
                parent.insert(at, copy.deepcopy(el))
        elif op == "nest" and parent is not None:
            # The element inside copies of itself, deeper than any recursion limit.
            inner = el
            for _ in range(draw(st.sampled_from(DEPTHS[:5]))):
                outer = etree.Element(el.tag)
                outer.append(inner)
                inner = outer
            parent.append(inner)
        elif op == "text":
            el.text = draw(st.sampled_from(XML_TEXTS))
        elif op == "attribute":
            name = draw(st.sampled_from(XML_ATTRIBUTES))
            ids = [e.get("{http://www.opengis.net/gml}id") for e in elements if e.get("{http://www.opengis.net/gml}id")]
            value = draw(st.sampled_from(["#" + i for i in ids[:50]])) if ids and draw(st.booleans()) else None
            el.set(name, value or draw(st.sampled_from(("", "0", "-1", "2", "7", "EPSG:4326", "urn:adv:crs:X", "#"))))
        elif op == "move" and parent is not None and len(elements) > 1:
            other = elements[draw(st.integers(0, len(elements) - 1))]
            if other is not el and el not in other.iterancestors():
                other.append(el)
    return _cap(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

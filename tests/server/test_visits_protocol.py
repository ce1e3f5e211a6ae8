"""Guided visits without a server: message validation, join codes, and the host-authority transitions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.realtime import protocol as P
from server.realtime import visits as V

HEAD = [1.0, 1.6, -2.0, 0.0, 0.0, 0.0, 1.0]


def msg(**fields: Any) -> str:
    return json.dumps({"v": 1, **fields})


def test_a_pose_is_parsed_rounded_and_reencoded_compactly() -> None:
    pose = P.parse(msg(t="pose", h=[1.123456, 1.6, -2, 0, 0, 0, 1], r=HEAD, s=0.002, ts=123.0))
    assert pose == {"t": "pose", "h": [1.1235, 1.6, -2.0, 0.0, 0.0, 0.0, 1.0], "r": HEAD, "s": 0.002, "ts": 123.0}
    fragment = P.pose_fragment(pose)
    assert " " not in fragment and '"t"' not in fragment
    batch = json.loads(P.poses_message({"p1": fragment, "p2": P.pose_fragment({"h": HEAD, "s": 1.0})}))
    assert batch["t"] == "poses" and batch["v"] == 1 and batch["p"]["p1"]["r"] == HEAD


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "malformed"),
        ("[1, 2]", "malformed"),
        (json.dumps({"t": "pose", "h": HEAD}), "version"),
        (msg(t="teleport"), "unknown_type"),
        (msg(t="pose"), "invalid"),
        (msg(t="pose", h=[0, 0, 0, 0, 0, 0, 0]), "invalid"),  # not a rotation
        (msg(t="pose", h=[1, 2, 3]), "invalid"),
        (msg(t="pose", h=[True, 0, 0, 0, 0, 0, 1]), "invalid"),
        (msg(t="pose", h=[1e9, 0, 0, 0, 0, 0, 1]), "invalid"),
        (msg(t="pose", h=HEAD, s=0), "invalid"),
        ('{"v":1,"t":"pose","h":[NaN,0,0,0,0,0,1]}', "invalid"),
        (msg(t="state"), "invalid"),
        (msg(t="state", mode="orbit"), "invalid"),
        (msg(t="state", follow="yes"), "invalid"),
        (msg(t="state", variant="x" * 65), "invalid"),
        (msg(t="state", variant="a\nb"), "invalid"),
        (msg(t="gather", at=[0, 0]), "invalid"),
        (msg(t="handover"), "invalid"),
        (msg(t="pose", h=HEAD, pad="x" * 3000), "too_large"),
        ("[" * 100_000, "too_large"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(P.ProtocolError) as info:
        P.parse(text)
    assert info.value.code == code and info.value.detail


def test_binary_frames_are_refused() -> None:
    with pytest.raises(P.ProtocolError, match="text"):
        P.parse(b'{"v":1,"t":"ping"}')


def test_state_pointer_and_gather_are_checked() -> None:
    assert P.parse(msg(t="state", variant="tower", follow=True)) == {"t": "state", "variant": "tower", "follow": True}
    assert P.parse(msg(t="pointer", at=None)) == {"t": "pointer", "at": None}
    assert P.parse(msg(t="gather", at=[1, 2, 3], yaw=1.5)) == {"t": "gather", "at": [1.0, 2.0, 3.0], "yaw": 1.5}


def test_join_codes_are_random_and_forgiving_to_type() -> None:
    codes = {V.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == V.CODE_LENGTH for c in codes)
    code = codes.pop()
    spaced = f"{code[:3].lower()}-{code[3:]}"
    assert V.normalise_code(spaced) == code
    assert V.normalise_code("0O1IL00") is None and V.normalise_code("ABC") is None


def visit() -> V.Visit:
    return V.Visit(V.new_code(), "demo", "alice", V.digest("host-key"))


def hosted(*people: str) -> tuple[V.Visit, list[V.Person]]:
    """A visit with its host, then ``people`` ("Name" a guest, "Name:spectator" a spectator), in order."""
    v = visit()
    admitted = [V.admit(v, "Guide", "guest", "host-key", None, 50)]
    for who in people:
        name, _, role = who.partition(":")
        admitted.append(V.admit(v, name, role or "guest", None, None, 50))
    return v, admitted


def test_the_host_key_makes_the_host_and_only_the_host_steers() -> None:
    v = visit()
    host = V.admit(v, "Guide", "guest", "host-key", None, 50)
    guest = V.admit(v, "Ann\x00\u2028  Lee", "guest", None, None, 50)
    assert host.role == "host" and v.host == host.id and guest.name == "Ann Lee" and guest.colour != host.colour
    with pytest.raises(V.VisitRefused) as refused:
        V.admit(v, "Mallory", "host", None, None, 50)
    assert refused.value.close_code == 4400
    with pytest.raises(V.VisitRefused, match="wrong host key"):
        V.admit(v, "Mallory", "guest", "guess", None, 50)
    with pytest.raises(P.ProtocolError) as forbidden:
        V.apply_state(v, guest.id, {"variant": "tower"})
    assert forbidden.value.code == "forbidden" and v.variant is None
    assert V.apply_state(v, host.id, {"variant": "tower", "mode": "street"})["variant"] == "tower"
    # the host key again (a second device of the guide) is the same person, not a second host
    assert V.admit(v, "Guide", "guest", "host-key", None, 50) is host


def test_resume_brings_back_the_same_person_and_a_full_visit_says_so() -> None:
    v = visit()
    guest = V.admit(v, "Ann", "guest", None, None, 2)
    guest.resume = V.digest("tok")
    V.set_online(v, guest.id, False)
    assert V.admit(v, "", "guest", None, "tok", 2) is guest and guest.online
    with pytest.raises(V.VisitRefused) as bad:
        V.admit(v, "", "guest", None, "other", 2)
    assert bad.value.reason == "bad_resume"
    V.admit(v, "Bob", "spectator", None, None, 2)
    with pytest.raises(V.VisitRefused) as full:
        V.admit(v, "Cy", "guest", None, None, 2)
    assert full.value.close_code == 4429


def test_the_host_leaving_hands_over_to_the_earliest_guest_or_ends() -> None:
    v, (host, _, first, _) = hosted("Screen:spectator", "Ann", "Bob")
    assert V.depart(v, host.id) == "host" and v.host == first.id and v.people[first.id].role == "host"
    assert V.depart(v, "p99") is None
    ends, (h, _) = hosted("Ann")
    ends.on_host_leave = "end"
    assert V.depart(ends, h.id) == "ended" and ends.ended
    with pytest.raises(V.VisitRefused) as over:
        V.admit(ends, "Late", "guest", None, None, 50)
    assert over.value.close_code == 4410


def test_handover_only_to_a_guest_who_is_here_and_away_people_expire_only_if_still_away() -> None:
    v, (host, ann, screen) = hosted("Ann", "Screen:spectator")
    with pytest.raises(P.ProtocolError):
        V.hand_over(v, host.id, screen.id)
    with pytest.raises(P.ProtocolError):
        V.hand_over(v, ann.id, ann.id)
    assert V.hand_over(v, host.id, ann.id)["host"] == ann.id and v.people[host.id].role == "guest"
    assert V.depart(v, host.id, only_if_away=True) is None  # still online: stays
    V.set_online(v, host.id, False)
    assert V.depart(v, host.id, only_if_away=True) == "left"


def test_a_visit_round_trips_through_json() -> None:
    v, _ = hosted("Ann")
    again = V.Visit.from_dict(json.loads(json.dumps(v.to_dict())))
    assert again == v

"""The swap state machine against the shared vectors (also run by the C# tests) and properties."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stylebridge.client.swap import (
    AckStatus,
    Chunk,
    FrameBoundary,
    LoadFail,
    LoadOk,
    LoadRequest,
    PushedModel,
    SwapEvent,
    SwapMachine,
    SwapState,
    WarmFail,
    WarmOk,
)
from stylebridge.errors import InvalidInputError

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "swap_state.json"


def _cases() -> list[dict[str, Any]]:
    document = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert document["version"] == 1
    return document["cases"]


CASES = _cases()


def _chunk(event: dict[str, Any]) -> Chunk:
    return Chunk(
        push_id=event["push_id"],
        model=PushedModel(event["model_id"], event["version"], event["sha256"]),
        total_bytes=event["total_bytes"],
        offset=event["offset"],
        data=bytes.fromhex(event["data_hex"]),
        last=event["last"],
    )


def _event(event: dict[str, Any]) -> SwapEvent:
    kind = event["type"]
    if kind == "chunk":
        return _chunk(event)
    if kind == "load_ok":
        return LoadOk(event["ms"])
    if kind == "load_fail":
        return LoadFail(event["error"])
    if kind == "warm_ok":
        return WarmOk(event["ms"])
    if kind == "warm_fail":
        return WarmFail(event["error"])
    if kind == "frame":
        return FrameBoundary(event["sequence"], event["ms"])
    raise AssertionError(f"unknown event type {kind!r}")


def _apply(machine: SwapMachine, event: dict[str, Any], frames: dict[str, str]) -> None:
    parsed = _event(event)
    expected_model = machine.next_frame_model()
    before = machine.state
    answer = machine.handle(parsed)
    if isinstance(parsed, Chunk):
        if isinstance(answer, LoadRequest):
            assert machine.state is SwapState.LOADING
            assert hashlib.sha256(answer.data).hexdigest() == event["sha256"]
        else:
            assert answer is None
            assert machine.state is before or machine.state is not SwapState.LOADING
    elif isinstance(parsed, FrameBoundary):
        assert answer == expected_model, "next_frame_model() must predict on_frame()"
        assert isinstance(answer, str)
        frames[str(parsed.sequence)] = answer
    else:
        assert answer is None


def test_vector_file_is_current() -> None:
    """The committed JSON is what tools/make_swap_vectors.py writes."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_swap_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_vectors_cover_the_spec() -> None:
    assert len(CASES) >= 12
    states = {s for c in CASES for s in c["expect"]["states"]}
    # Verifying never outlives the last chunk's event.
    assert states >= {s.value for s in SwapState} - {"Verifying"}
    errors = {a["error_contains"] for c in CASES for a in c["expect"]["acks"]}
    assert {"out of order", "sha256", "size", "too large", "superseded"} <= errors


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    machine = SwapMachine(case["initial_model"], max_model_bytes=case["max_model_bytes"])
    expect = case["expect"]
    frames: dict[str, str] = {}
    acks = []
    for index, (event, state) in enumerate(zip(case["events"], expect["states"], strict=True)):
        _apply(machine, event, frames)
        assert machine.state.value == state, f"after event {index} ({event['type']})"
        acks.extend(machine.drain_acks())
    assert frames == expect["frame_models"]
    assert machine.active_model == expect["active_model"]
    assert len(acks) == len(expect["acks"]), acks
    for ack, want in zip(acks, expect["acks"], strict=True):
        assert ack.push_id == want["push_id"]
        assert ack.model.model_id == want["model_id"]
        assert ack.status.value == want["status"]
        for field in ("first_sequence", "import_ms", "warmup_ms", "first_inference_ms"):
            if field in want:
                assert getattr(ack, field) == want[field], field
        if ack.status is AckStatus.ROLLED_BACK:
            assert want["error_contains"] in ack.error.lower()
        else:
            assert ack.error == ""


# --- properties -------------------------------------------------------------------


def _split(payload: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(payload) + 1) for c in cuts} | {0, len(payload)})
    return [payload[a:b] for a, b in itertools.pairwise(points)] or [b""]


def _push(machine: SwapMachine, push_id: str, parts: list[bytes], digest: str,
          total: int) -> LoadRequest | None:
    model = PushedModel("m", 1, digest)
    offset = 0
    request = None
    for index, part in enumerate(parts):
        request = machine.on_chunk(
            Chunk(push_id, model, total, offset, part, last=index == len(parts) - 1)
        )
        offset += len(part)
    return request


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(min_size=1, max_size=4096), cuts=st.lists(st.integers(0, 5000)))
def test_any_chunking_reaches_loading_with_the_right_bytes(payload: bytes, cuts: list[int]) -> None:
    digest = hashlib.sha256(payload).hexdigest()
    machine = SwapMachine("old")
    request = _push(machine, "p", _split(payload, cuts), digest, len(payload))
    assert machine.state is SwapState.LOADING
    assert request is not None and request.data == payload and request.model.sha256 == digest
    assert machine.drain_acks() == []
    assert machine.on_frame(1, 1.0) == "old"


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(min_size=1, max_size=2048),
    cuts=st.lists(st.integers(0, 3000), max_size=8),
    position=st.integers(0, 10_000),
    flip=st.integers(1, 255),
)
def test_one_corrupted_byte_always_rolls_back(
    payload: bytes, cuts: list[int], position: int, flip: int
) -> None:
    digest = hashlib.sha256(payload).hexdigest()
    corrupted = bytearray(payload)
    corrupted[position % len(payload)] ^= flip
    machine = SwapMachine("old")
    request = _push(machine, "p", _split(bytes(corrupted), cuts), digest, len(payload))
    assert request is None
    assert machine.state is SwapState.ROLLED_BACK
    [ack] = machine.drain_acks()
    assert ack.status is AckStatus.ROLLED_BACK and "sha256" in ack.error
    assert machine.on_frame(1, 1.0) == "old"


def test_stale_result_with_push_id_is_ignored() -> None:
    """A host's loader may finish a superseded push while the newer one loads."""
    machine = SwapMachine("old")
    a, b = b"aaaa", b"bbbb"
    _push(machine, "p1", [a], hashlib.sha256(a).hexdigest(), 4)
    _push(machine, "p2", [b], hashlib.sha256(b).hexdigest(), 4)
    assert machine.state is SwapState.LOADING and machine.pending_push_id == "p2"
    machine.on_load_ok(5.0, push_id="p1")
    assert machine.state is SwapState.LOADING
    machine.on_load_fail("late failure of p1", push_id="p1")
    assert machine.state is SwapState.LOADING
    machine.on_load_ok(6.0, push_id="p2")
    machine.on_warm_ok(1.0, push_id="p2")
    assert machine.on_frame(9, 2.0) == "m"
    acks = machine.drain_acks()
    assert [(x.push_id, x.status) for x in acks] == [
        ("p1", AckStatus.ROLLED_BACK),
        ("p2", AckStatus.ACTIVE),
    ]
    assert acks[1].import_ms == 6.0 and acks[1].first_sequence == 9


def test_negative_limit_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="max_model_bytes"):
        SwapMachine(max_model_bytes=-1)

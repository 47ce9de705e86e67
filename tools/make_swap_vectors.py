"""Write tests/vectors/swap_state.json: the shared cases for the client swap state machine.

Why a script: the vectors carry sha256 digests of their payloads, and a digest typed by
hand is a digest that is wrong. The expectations below are written from
/work/swap_spec.md (the spec both the Python and the C# machine implement), NOT from
running either machine, so the file can catch a machine that drifted from the spec.
The JSON is committed; rerun this script after changing a case and commit both.

Usage:
    python tools/make_swap_vectors.py               # writes tests/vectors/swap_state.json
    python tools/make_swap_vectors.py --check       # exit 1 when the committed file differs

Format (see the spec): every case has initial_model, max_model_bytes, events (chunk,
load_ok, load_fail, warm_ok, warm_fail, frame) and expect {states (state after each
event), frame_models (sequence -> model id that ran it), acks, active_model}.
Failure events carry {"type": "load_fail" | "warm_fail", "error": "..."}.
Each expected ack names push_id, model_id and status; ACTIVE acks give first_sequence and
the three timings; ROLLED_BACK acks give error_contains (a lower-case substring).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "swap_state.json"

Event = dict[str, Any]

PAYLOAD_A = bytes(range(1, 7))  # 6 bytes: 01..06
PAYLOAD_B = bytes(range(0x10, 0x1A))  # 10 bytes
PAYLOAD_C = b"stylebridge-model-c"  # 19 bytes


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunks(
    push_id: str,
    model_id: str,
    payload: bytes,
    sizes: list[int],
    *,
    version: int = 1,
    digest: str | None = None,
    total_bytes: int | None = None,
    last_on_final: bool = True,
) -> list[Event]:
    """Chunk events splitting ``payload`` by ``sizes`` (which must cover it exactly)."""
    assert sum(sizes) == len(payload), (sizes, len(payload))
    events: list[Event] = []
    offset = 0
    for index, size in enumerate(sizes):
        events.append(
            chunk(
                push_id,
                model_id,
                payload[offset : offset + size],
                offset=offset,
                version=version,
                digest=digest if digest is not None else sha(payload),
                total_bytes=total_bytes if total_bytes is not None else len(payload),
                last=last_on_final and index == len(sizes) - 1,
            )
        )
        offset += size
    return events


def chunk(
    push_id: str,
    model_id: str,
    data: bytes,
    *,
    offset: int,
    digest: str,
    total_bytes: int,
    last: bool,
    version: int = 1,
) -> Event:
    return {
        "type": "chunk",
        "push_id": push_id,
        "model_id": model_id,
        "version": version,
        "sha256": digest,
        "total_bytes": total_bytes,
        "offset": offset,
        "data_hex": data.hex(),
        "last": last,
    }


def load_ok(ms: float) -> Event:
    return {"type": "load_ok", "ms": ms}


def warm_ok(ms: float) -> Event:
    return {"type": "warm_ok", "ms": ms}


def load_fail(error: str) -> Event:
    return {"type": "load_fail", "error": error}


def warm_fail(error: str) -> Event:
    return {"type": "warm_fail", "error": error}


def frame(sequence: int, ms: float) -> Event:
    return {"type": "frame", "sequence": sequence, "ms": ms}


def active(
    push_id: str,
    model_id: str,
    first_sequence: int,
    import_ms: float,
    warmup_ms: float,
    first_ms: float,
) -> dict[str, Any]:
    return {
        "push_id": push_id,
        "model_id": model_id,
        "status": "ACTIVE",
        "first_sequence": first_sequence,
        "import_ms": import_ms,
        "warmup_ms": warmup_ms,
        "first_inference_ms": first_ms,
        "error_contains": "",
    }


def rolled_back(push_id: str, model_id: str, error_contains: str) -> dict[str, Any]:
    return {
        "push_id": push_id,
        "model_id": model_id,
        "status": "ROLLED_BACK",
        "error_contains": error_contains,
    }


def case(
    name: str,
    events: list[Event],
    states: list[str],
    frame_models: dict[int, str],
    acks: list[dict[str, Any]],
    active_model: str,
    *,
    initial_model: str = "mosaic",
    max_model_bytes: int = 0,
) -> dict[str, Any]:
    assert len(events) == len(states), (name, len(events), len(states))
    frames = {e["sequence"] for e in events if e["type"] == "frame"}
    assert frames == set(frame_models), (name, frames, frame_models)
    return {
        "name": name,
        "initial_model": initial_model,
        "max_model_bytes": max_model_bytes,
        "events": events,
        "expect": {
            "states": states,
            "frame_models": {str(k): v for k, v in sorted(frame_models.items())},
            "acks": acks,
            "active_model": active_model,
        },
    }


def cases() -> list[dict[str, Any]]:
    a2 = chunks("p1", "tiny", PAYLOAD_A, [3, 3])
    out = [
        case(
            "happy path, two chunks",
            [*a2, load_ok(12.5), warm_ok(3.0), frame(7, 4.0)],
            ["Receiving", "Loading", "Warming", "Ready", "Active"],
            {7: "tiny"},
            [active("p1", "tiny", 7, 12.5, 3.0, 4.0)],
            "tiny",
        ),
        case(
            "happy path, one chunk, no model before",
            [frame(1, 0.0), *chunks("p1", "tiny", PAYLOAD_A, [6]), load_ok(1.0), warm_ok(2.0),
             frame(2, 5.5), frame(3, 5.0)],
            ["Idle", "Loading", "Warming", "Ready", "Active", "Active"],
            {1: "", 2: "tiny", 3: "tiny"},
            [active("p1", "tiny", 2, 1.0, 2.0, 5.5)],
            "tiny",
            initial_model="",
        ),
        case(
            "multi-chunk, uneven sizes",
            [*chunks("p1", "big", PAYLOAD_C, [1, 7, 4, 6, 1]), load_ok(30.0), warm_ok(8.25),
             frame(100, 9.5)],
            ["Receiving", "Receiving", "Receiving", "Receiving", "Loading", "Warming", "Ready",
             "Active"],
            {100: "big"},
            [active("p1", "big", 100, 30.0, 8.25, 9.5)],
            "big",
        ),
        case(
            "frames during every state are answered by the old model",
            [frame(1, 4.0), a2[0], frame(2, 4.1), a2[1], frame(3, 4.2), load_ok(10.0),
             frame(4, 4.3), warm_ok(2.0), frame(5, 6.0), frame(6, 5.0)],
            ["Idle", "Receiving", "Receiving", "Loading", "Loading", "Warming", "Warming",
             "Ready", "Active", "Active"],
            {1: "mosaic", 2: "mosaic", 3: "mosaic", 4: "mosaic", 5: "tiny", 6: "tiny"},
            [active("p1", "tiny", 5, 10.0, 2.0, 6.0)],
            "tiny",
        ),
        case(
            "out-of-order offset rolls back; later chunks of that push are ignored",
            [
                chunk("p1", "tiny", PAYLOAD_A[:3], offset=0, digest=sha(PAYLOAD_A),
                      total_bytes=6, last=False),
                frame(1, 4.0),
                chunk("p1", "tiny", PAYLOAD_A[4:], offset=4, digest=sha(PAYLOAD_A),
                      total_bytes=6, last=True),
                frame(2, 4.0),
                chunk("p1", "tiny", PAYLOAD_A[3:], offset=3, digest=sha(PAYLOAD_A),
                      total_bytes=6, last=True),
                load_ok(5.0),
                frame(3, 4.0),
            ],
            ["Receiving", "Receiving", "RolledBack", "RolledBack", "RolledBack", "RolledBack",
             "RolledBack"],
            {1: "mosaic", 2: "mosaic", 3: "mosaic"},
            [rolled_back("p1", "tiny", "out of order")],
            "mosaic",
        ),
        case(
            "stray chunks at a non-zero offset outside the push in progress are ignored",
            [
                chunk("p1", "tiny", PAYLOAD_A[3:], offset=3, digest=sha(PAYLOAD_A),
                      total_bytes=6, last=True),
                a2[0],
                chunks("p2", "other", PAYLOAD_B, [2, 8])[1],
                frame(1, 4.0),
                a2[1],
                chunks("p3", "other", PAYLOAD_B, [4, 6])[1],
                load_ok(2.0),
                chunks("p3", "other", PAYLOAD_B, [4, 6])[1],
                warm_ok(1.0),
                chunks("p3", "other", PAYLOAD_B, [4, 6])[1],
                frame(2, 3.0),
                chunks("p4", "other", PAYLOAD_B, [1, 9])[1],
                frame(3, 3.0),
            ],
            ["Idle", "Receiving", "Receiving", "Receiving", "Loading", "Loading", "Warming",
             "Warming", "Ready", "Ready", "Active", "Active", "Active"],
            {1: "mosaic", 2: "tiny", 3: "tiny"},
            [active("p1", "tiny", 2, 2.0, 1.0, 3.0)],
            "tiny",
        ),
        case(
            "bad sha256 rolls back",
            [*chunks("p1", "tiny", PAYLOAD_A, [2, 4], digest=sha(b"something else")),
             frame(1, 4.0)],
            ["Receiving", "RolledBack", "RolledBack"],
            {1: "mosaic"},
            [rolled_back("p1", "tiny", "sha256")],
            "mosaic",
        ),
        case(
            "one corrupted byte in transit rolls back",
            [
                chunk("p1", "tiny", PAYLOAD_A[:3], offset=0, digest=sha(PAYLOAD_A),
                      total_bytes=6, last=False),
                chunk("p1", "tiny", b"\x04\x05\x07", offset=3, digest=sha(PAYLOAD_A),
                      total_bytes=6, last=True),
                frame(1, 4.0),
            ],
            ["Receiving", "RolledBack", "RolledBack"],
            {1: "mosaic"},
            [rolled_back("p1", "tiny", "sha256")],
            "mosaic",
        ),
        case(
            "size mismatch: last chunk before total_bytes",
            [*chunks("p1", "tiny", PAYLOAD_A, [3, 3], total_bytes=8), frame(1, 4.0)],
            ["Receiving", "RolledBack", "RolledBack"],
            {1: "mosaic"},
            [rolled_back("p1", "tiny", "size")],
            "mosaic",
        ),
        case(
            "too large: total_bytes over max_model_bytes",
            [chunks("p1", "tiny", PAYLOAD_A, [3, 3])[0], frame(1, 4.0)],
            ["RolledBack", "RolledBack"],
            {1: "mosaic"},
            [rolled_back("p1", "tiny", "too large")],
            "mosaic",
            max_model_bytes=5,
        ),
        case(
            "exactly max_model_bytes is accepted",
            [*a2, load_ok(1.0), warm_ok(1.0), frame(1, 2.0)],
            ["Receiving", "Loading", "Warming", "Ready", "Active"],
            {1: "tiny"},
            [active("p1", "tiny", 1, 1.0, 1.0, 2.0)],
            "tiny",
            max_model_bytes=6,
        ),
        case(
            "too large: more bytes received than total_bytes",
            [*chunks("p1", "tiny", PAYLOAD_A, [4, 2], total_bytes=5), frame(1, 4.0)],
            ["Receiving", "RolledBack", "RolledBack"],
            {1: "mosaic"},
            [rolled_back("p1", "tiny", "too large")],
            "mosaic",
        ),
        case(
            "superseded while Receiving; chunks of the abandoned push are ignored",
            [
                chunks("p1", "tiny", PAYLOAD_A, [3, 3])[0],
                chunks("p2", "other", PAYLOAD_B, [5, 5], version=2)[0],
                chunks("p1", "tiny", PAYLOAD_A, [3, 3])[1],
                frame(1, 4.0),
                chunks("p2", "other", PAYLOAD_B, [5, 5], version=2)[1],
                load_ok(7.0),
                warm_ok(1.5),
                frame(2, 3.5),
            ],
            ["Receiving", "Receiving", "Receiving", "Receiving", "Loading", "Warming", "Ready",
             "Active"],
            {1: "mosaic", 2: "other"},
            [rolled_back("p1", "tiny", "superseded"), active("p2", "other", 2, 7.0, 1.5, 3.5)],
            "other",
        ),
        case(
            "superseded while Loading: the old load result is ignored",
            [
                *a2,
                chunks("p2", "other", PAYLOAD_B, [4, 6])[0],
                load_ok(9.0),
                frame(1, 4.0),
                chunks("p2", "other", PAYLOAD_B, [4, 6])[1],
                load_ok(5.0),
                warm_ok(1.0),
                frame(2, 4.0),
            ],
            ["Receiving", "Loading", "Receiving", "Receiving", "Receiving", "Loading", "Warming",
             "Ready", "Active"],
            {1: "mosaic", 2: "other"},
            [rolled_back("p1", "tiny", "superseded"), active("p2", "other", 2, 5.0, 1.0, 4.0)],
            "other",
        ),
        case(
            "superseded while Warming",
            [*a2, load_ok(3.0), chunks("p2", "other", PAYLOAD_B, [4, 6])[0], warm_ok(1.0),
             frame(1, 4.0)],
            ["Receiving", "Loading", "Warming", "Receiving", "Receiving", "Receiving"],
            {1: "mosaic"},
            [rolled_back("p1", "tiny", "superseded")],
            "mosaic",
        ),
        case(
            "superseded while Ready: the ready model never runs",
            [
                *a2,
                load_ok(3.0),
                warm_ok(1.0),
                chunks("p2", "other", PAYLOAD_B, [4, 6])[0],
                frame(1, 4.0),
                chunks("p2", "other", PAYLOAD_B, [4, 6])[1],
                frame(2, 4.0),
                load_ok(6.0),
                warm_ok(2.0),
                frame(3, 7.0),
            ],
            ["Receiving", "Loading", "Warming", "Ready", "Receiving", "Receiving", "Loading",
             "Loading", "Warming", "Ready", "Active"],
            {1: "mosaic", 2: "mosaic", 3: "other"},
            [rolled_back("p1", "tiny", "superseded"), active("p2", "other", 3, 6.0, 2.0, 7.0)],
            "other",
        ),
        case(
            "load_fail rolls back with the loader's error",
            [*a2, frame(1, 4.0), load_fail("InvalidGraph: truncated protobuf"), frame(2, 4.0)],
            ["Receiving", "Loading", "Loading", "RolledBack", "RolledBack"],
            {1: "mosaic", 2: "mosaic"},
            [rolled_back("p1", "tiny", "truncated protobuf")],
            "mosaic",
        ),
        case(
            "warm_fail rolls back with the warm-up error",
            [*a2, load_ok(4.0), frame(1, 4.0), warm_fail("output shape [1,3,2,2] is not 1x3xHxW"),
             frame(2, 4.0)],
            ["Receiving", "Loading", "Warming", "Warming", "RolledBack", "RolledBack"],
            {1: "mosaic", 2: "mosaic"},
            [rolled_back("p1", "tiny", "output shape")],
            "mosaic",
        ),
        case(
            "stray results in states that do not expect them are ignored",
            [
                load_ok(1.0),
                warm_ok(1.0),
                load_fail("stray"),
                warm_fail("stray"),
                a2[0],
                load_ok(1.0),
                warm_fail("stray"),
                a2[1],
                warm_ok(1.0),
                warm_fail("stray"),
                load_ok(2.0),
                load_ok(1.0),
                load_fail("stray"),
                warm_ok(3.0),
                load_ok(1.0),
                load_fail("stray"),
                frame(1, 4.0),
                load_ok(1.0),
                warm_ok(1.0),
                load_fail("stray"),
                warm_fail("stray"),
                frame(2, 4.0),
            ],
            ["Idle", "Idle", "Idle", "Idle", "Receiving", "Receiving", "Receiving", "Loading",
             "Loading", "Loading", "Warming", "Warming", "Warming", "Ready", "Ready", "Ready",
             "Active", "Active",
             "Active", "Active", "Active", "Active"],
            {1: "tiny", 2: "tiny"},
            [active("p1", "tiny", 1, 2.0, 3.0, 4.0)],
            "tiny",
        ),
        case(
            "a second successful swap after a rollback, then a third",
            [
                *chunks("p1", "bad", PAYLOAD_A, [6], digest=sha(b"x")),
                frame(1, 4.0),
                *chunks("p2", "other", PAYLOAD_B, [3, 7], version=3),
                load_ok(11.0),
                warm_ok(2.0),
                frame(2, 5.0),
                *chunks("p3", "big", PAYLOAD_C, [10, 9], version=4),
                frame(3, 5.1),
                load_ok(12.0),
                warm_ok(3.0),
                frame(4, 6.0),
                frame(5, 6.1),
            ],
            ["RolledBack", "RolledBack", "Receiving", "Loading", "Warming", "Ready", "Active",
             "Receiving", "Loading", "Loading", "Warming", "Ready", "Active", "Active"],
            {1: "mosaic", 2: "other", 3: "other", 4: "big", 5: "big"},
            [
                rolled_back("p1", "bad", "sha256"),
                active("p2", "other", 2, 11.0, 2.0, 5.0),
                active("p3", "big", 4, 12.0, 3.0, 6.0),
            ],
            "big",
        ),
        case(
            "a new push after load_fail succeeds",
            [*a2, load_fail("cannot import"), frame(1, 4.0),
             *chunks("p2", "tiny", PAYLOAD_A, [6], version=2), load_ok(2.0), warm_ok(1.0),
             frame(2, 3.0)],
            ["Receiving", "Loading", "RolledBack", "RolledBack", "Loading", "Warming", "Ready",
             "Active"],
            {1: "mosaic", 2: "tiny"},
            [rolled_back("p1", "tiny", "cannot import"), active("p2", "tiny", 2, 2.0, 1.0, 3.0)],
            "tiny",
        ),
    ]
    names = [c["name"] for c in out]
    assert len(names) == len(set(names)), "case names must be unique"
    return out


def render() -> str:
    document = {
        "version": 1,
        "generator": "tools/make_swap_vectors.py (expectations written from the swap spec)",
        "cases": cases(),
    }
    return json.dumps(document, indent=1) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    text = render()
    if args.check:
        if not args.out.is_file() or args.out.read_text(encoding="utf-8") != text:
            print(f"{args.out} is stale: run python tools/make_swap_vectors.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(cases())} cases to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

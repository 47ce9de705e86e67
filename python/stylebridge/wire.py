"""Protobuf wire format for the messages that carry pixels, without copying them.

Python protobuf (upb) copies a bytes field when a message is built, when it is
serialized and when the field is read; for a 720p frame each copy of 2.7 MB into a
fresh arena costs up to several milliseconds, more than the gRPC round trip itself.
So the frame messages travel as raw bytes and are cut and joined here:

* ``split_blobs`` cuts the large bytes fields (``Image.pixels``) out of an encoded
  message as zero-copy ``memoryview``s and returns the rest, re-encoded without
  them, for the generated class to parse (a few hundred bytes);
* ``join_blobs`` appends such fields to a small encoded message, copying each pixel
  buffer exactly once, into the outgoing bytes.

The output is standard protobuf: fields of a message may come in any order and an
embedded message may repeat (it is merged; a repeated bytes field keeps its last
value), which is exactly what these functions produce and accept. No generated code
is imported here: each side's ``convert`` module says which fields are blobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stylebridge.errors import InvalidInputError

# Wire types (protobuf encoding spec).
VARINT = 0
FIXED64 = 1
LENGTH_DELIMITED = 2
START_GROUP = 3
END_GROUP = 4
FIXED32 = 5

Buffer = bytes | bytearray | memoryview


def encode_varint(value: int) -> bytes:
    """Base-128 varint of a non-negative integer."""
    if value < 0:
        raise ValueError(f"varint of a negative number {value}")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return encode_varint((field << 3) | wire_type)


def _read_varint(data: memoryview, pos: int, end: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if pos >= end or shift > 63:
            raise InvalidInputError("malformed protobuf message: truncated or overlong varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _skip(data: memoryview, pos: int, end: int, wire_type: int) -> int:
    """Position after a field value of ``wire_type`` starting at ``pos``."""
    if wire_type == VARINT:
        return _read_varint(data, pos, end)[1]
    if wire_type == FIXED64:
        pos += 8
    elif wire_type == FIXED32:
        pos += 4
    elif wire_type == LENGTH_DELIMITED:
        length, pos = _read_varint(data, pos, end)
        pos += length
    else:
        raise InvalidInputError(f"malformed protobuf message: unsupported wire type {wire_type}")
    if pos > end:
        raise InvalidInputError("malformed protobuf message: a field runs past the end")
    return pos


@dataclass(frozen=True, slots=True)
class Split:
    """An encoded message with its blob fields cut out."""

    # The message without the blobs: parse it with the generated class.
    rest: bytes
    # (outer field, inner field) -> the blob's bytes, a view on the input.
    blobs: Mapping[tuple[int, int], memoryview]


def split_blobs(data: Buffer, blob_fields: Mapping[int, int]) -> Split:
    """Cut ``inner`` bytes fields out of the embedded messages in ``outer`` fields.

    ``blob_fields`` maps an outer field number (an embedded message, e.g. FrameUp.image)
    to the bytes field inside it to cut (e.g. Image.pixels). Raises InvalidInputError
    for bytes that are not a well-formed message.
    """
    view = memoryview(data)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    end = len(view)
    pos = 0
    kept: list[Buffer] = []
    blobs: dict[tuple[int, int], memoryview] = {}
    run_start = 0  # start of the current run of fields copied as they are
    while pos < end:
        field_start = pos
        key, pos = _read_varint(view, pos, end)
        field, wire_type = key >> 3, key & 7
        if field == 0:
            raise InvalidInputError("malformed protobuf message: field number 0")
        inner = blob_fields.get(field)
        if inner is None or wire_type != LENGTH_DELIMITED:
            pos = _skip(view, pos, end, wire_type)
            continue
        length, body = _read_varint(view, pos, end)
        pos = body + length
        if pos > end:
            raise InvalidInputError("malformed protobuf message: a field runs past the end")
        kept.append(view[run_start:field_start])
        body_rest, blob = _cut_field(view, body, pos, inner)
        if blob is not None:
            blobs[(field, inner)] = blob
        kept.append(tag(field, LENGTH_DELIMITED))
        kept.append(encode_varint(sum(len(part) for part in body_rest)))
        kept.extend(body_rest)
        run_start = pos
    kept.append(view[run_start:end])
    return Split(rest=b"".join(kept), blobs=blobs)


def _cut_field(
    view: memoryview, start: int, end: int, cut: int
) -> tuple[list[memoryview], memoryview | None]:
    """The parts of an embedded message without field ``cut``, and that field's last value."""
    parts: list[memoryview] = []
    blob: memoryview | None = None
    pos = run_start = start
    while pos < end:
        field_start = pos
        key, pos = _read_varint(view, pos, end)
        field, wire_type = key >> 3, key & 7
        if field == 0:
            raise InvalidInputError("malformed protobuf message: field number 0")
        if field == cut and wire_type == LENGTH_DELIMITED:
            length, body = _read_varint(view, pos, end)
            pos = body + length
            if pos > end:
                raise InvalidInputError("malformed protobuf message: a field runs past the end")
            parts.append(view[run_start:field_start])
            blob = view[body:pos]
            run_start = pos
        else:
            pos = _skip(view, pos, end, wire_type)
    parts.append(view[run_start:end])
    return [p for p in parts if len(p)], blob


@dataclass(frozen=True, slots=True)
class Blob:
    """A bytes field to append inside an embedded message: ``outer { <head> inner: data }``."""

    outer: int
    # The embedded message's other fields, encoded (may be empty).
    head: bytes
    inner: int
    data: Buffer


def join_blobs(message: bytes, blobs: Sequence[Blob]) -> bytes:
    """``message`` followed by each blob's embedded message; copies each blob once."""
    parts: list[Buffer] = [message]
    for blob in blobs:
        size = memoryview(blob.data).nbytes
        inner = tag(blob.inner, LENGTH_DELIMITED) + encode_varint(size)
        parts.append(tag(blob.outer, LENGTH_DELIMITED))
        parts.append(encode_varint(len(blob.head) + len(inner) + size))
        parts.append(blob.head)
        parts.append(inner)
        parts.append(blob.data)
    return b"".join(parts)

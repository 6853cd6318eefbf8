"""Just enough of the protobuf wire format and of TFRecord framing to read TensorBoard events.

Protobuf (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of
``key = (field_number << 3) | wire_type`` varints, each followed by a varint (type 0), 8 bytes
(type 1), a length-prefixed byte string (type 2) or 4 bytes (type 5).

TFRecord: ``uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)``,
little-endian, with ``masked(c) = ((c >> 15 | c << 17) + 0xa282ead8) mod 2**32`` over CRC-32C
(Castagnoli, reflected polynomial 0x82F63B78).
"""

from __future__ import annotations

import struct
from typing import Iterator

import numpy as np


class WireError(ValueError):
    """Malformed protobuf bytes (the caller turns it into a LoadError naming the file)."""


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``; ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def fields(buf: bytes) -> list[tuple[int, int, int | bytes]]:
    """``[(field_number, wire_type, value), ...]``: int for varints, bytes for the rest.

    One-byte keys and lengths (nearly all of them in event files) skip :func:`read_varint`.
    """
    out = []
    pos, n = 0, len(buf)
    while pos < n:
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = read_varint(buf, pos)
        number, wtype = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wtype == 0:
            value, pos = read_varint(buf, pos)
        elif wtype == 1:
            if pos + 8 > n:
                raise WireError("truncated 64-bit field")
            value, pos = buf[pos:pos + 8], pos + 8
        elif wtype == 2:
            length = buf[pos] if pos < n else 0x80
            if length < 0x80:
                pos += 1
            else:
                length, pos = read_varint(buf, pos)
            if pos + length > n:
                raise WireError("truncated length-delimited field")
            value, pos = buf[pos:pos + length], pos + length
        elif wtype == 5:
            if pos + 4 > n:
                raise WireError("truncated 32-bit field")
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise WireError(f"unsupported wire type {wtype}")
        out.append((number, wtype, value))
    return out


def as_int64(v: int) -> int:
    """A varint read as a signed int64 (two's complement)."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def unpack_reals(wtype: int, value, double: bool) -> list[float]:
    """A repeated float/double field: one fixed-width value or a packed run of them."""
    fmt, size, single = ("d", 8, 1) if double else ("f", 4, 5)
    if wtype == single:
        return [struct.unpack(f"<{fmt}", value)[0]]
    if wtype == 2 and len(value) % size == 0:
        return list(struct.unpack(f"<{len(value) // size}{fmt}", value))
    raise WireError(f"bad {'double' if double else 'float'} field")


def crc32c_many(chunks: list[bytes], batch: int = 65536, long: int = 4096) -> np.ndarray:
    """CRC-32C of each byte string, vectorised across strings (uint32; equals :func:`crc32c`).

    Strings are processed a byte column at a time in batches sorted by length, so the Python-level
    loop runs over the longest length, not over every byte; strings longer than ``long`` bytes
    (rare in event files: graphs, images) use the scalar loop.
    """
    n = len(chunks)
    out = np.empty(n, dtype=np.uint32)
    lengths = np.fromiter((len(c) for c in chunks), dtype=np.int64, count=n)
    short = np.flatnonzero(lengths <= long)
    for i in np.flatnonzero(lengths > long):
        out[i] = crc32c(chunks[i])
    order = short[np.argsort(-lengths[short], kind="stable")]
    for b0 in range(0, len(order), batch):
        idx = order[b0:b0 + batch]
        lens = lengths[idx]
        m, width = len(idx), int(lens[0]) if len(idx) else 0
        mat = np.zeros((m, max(width, 1)), dtype=np.uint8)
        flat = np.frombuffer(b"".join(chunks[i] for i in idx), dtype=np.uint8)
        rows = np.repeat(np.arange(m), lens)
        cols = np.arange(len(flat)) - np.repeat(np.cumsum(lens) - lens, lens)
        mat[rows, cols] = flat
        crc = np.full(m, 0xFFFFFFFF, dtype=np.uint32)
        # rows are sorted by length, longest first: the first k(col) rows are longer than col
        active = m - np.searchsorted(lens[::-1], np.arange(width), side="right")
        for col in range(width):
            k = int(active[col])
            c = crc[:k]
            crc[:k] = _TABLE_NP[(c ^ mat[:k, col]) & 0xFF] ^ (c >> 8)
        out[idx] = crc ^ np.uint32(0xFFFFFFFF)
    return out


def masked_many(crcs: np.ndarray) -> np.ndarray:
    c = crcs.astype(np.uint64)
    return ((((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF).astype(np.uint32)


def records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, payload)`` of each TFRecord, in order.

    The framing is scanned first and every CRC is then checked at once (:func:`crc32c_many`); the
    result is the same as checking record by record: the records before the first problem are
    yielded, then a CRC mismatch raises :class:`CorruptRecord` and a record cut short at the end
    of the data raises :class:`TruncatedRecord`.
    """
    spans: list[tuple[int, int]] = []
    pos, n, trunc = 0, len(data), None
    while pos < n:
        if n - pos < 12:
            trunc = pos
            break
        (length,) = struct.unpack_from("<Q", data, pos)
        end = pos + 12 + length + 4
        if end > n:
            trunc = pos
            break
        spans.append((pos, length))
        pos = end
    checked = spans + ([(trunc, -1)] if trunc is not None and n - trunc >= 12 else [])
    heads = [data[o:o + 8] for o, _ in checked]
    stored = np.array([struct.unpack_from("<I", data, o + 8)[0] for o, _ in checked], dtype=np.uint32)
    bad_head = np.flatnonzero(masked_many(crc32c_many(heads)) != stored) if checked else np.array([], int)
    kh = int(bad_head[0]) if len(bad_head) else len(checked)
    payloads = [data[o + 12:o + 12 + ln] for o, ln in spans[:kh]]
    stored = np.array([struct.unpack_from("<I", data, o + 12 + ln)[0] for o, ln in spans[:kh]], dtype=np.uint32)
    bad_data = np.flatnonzero(masked_many(crc32c_many(payloads)) != stored) if payloads else np.array([], int)
    kd = int(bad_data[0]) if len(bad_data) else len(payloads)
    for i in range(min(kh, kd)):
        yield spans[i][0], payloads[i]
    if kd < len(payloads):
        raise CorruptRecord(spans[kd][0], "data CRC mismatch")
    if kh < len(checked):
        raise CorruptRecord(checked[kh][0], "length CRC mismatch")
    if trunc is not None:
        raise TruncatedRecord(trunc)


class TruncatedRecord(Exception):
    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


class CorruptRecord(Exception):
    def __init__(self, offset: int, why: str):
        super().__init__(offset, why)
        self.offset, self.why = offset, why


def frame_record(payload: bytes) -> bytes:
    """Frame ``payload`` as one TFRecord (the inverse of :func:`records`)."""
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))

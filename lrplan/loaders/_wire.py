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


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field_number, wire_type, value)``: int for varints, bytes for the rest."""
    pos, n = 0, len(buf)
    while pos < n:
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
        yield number, wtype, value


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


def records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, payload)`` of each TFRecord.

    Raises :class:`WireError` with ``.offset`` on a CRC mismatch; a record cut short at the end of
    the data raises :class:`TruncatedRecord` (what came before it was already yielded).
    """
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < 12:
            raise TruncatedRecord(pos)
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if masked_crc32c(header) != hcrc:
            raise CorruptRecord(pos, "length CRC mismatch")
        end = pos + 12 + length + 4
        if end > n:
            raise TruncatedRecord(pos)
        payload = data[pos + 12:pos + 12 + length]
        (dcrc,) = struct.unpack("<I", data[end - 4:end])
        if masked_crc32c(payload) != dcrc:
            raise CorruptRecord(pos, "data CRC mismatch")
        yield pos, payload
        pos = end


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

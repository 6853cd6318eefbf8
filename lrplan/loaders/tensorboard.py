"""TensorBoard event files (``events.out.tfevents.*``), read without tensorboard or protobuf.

Each file is a sequence of TFRecords (see :mod:`lrplan.loaders._wire`) holding ``Event``
messages: ``Event{double wall_time=1; int64 step=2; Summary summary=5}``, ``Summary{repeated
Value value=1}``, ``Value{string tag=1; float simple_value=2; TensorProto tensor=8}``,
``TensorProto{dtype=1; TensorShapeProto tensor_shape=2; bytes tensor_content=4; repeated float
float_val=5; repeated double double_val=6}``. Read: old-style ``simple_value`` scalars and
new-style rank-0 float/double tensors (TF2, ``add_scalar(..., new_style=True)``); images,
histograms and text are skipped. Every event is kept (no reservoir sampling, unlike
tensorboard's ``EventAccumulator``).

Runs: a path may be one event file or a directory walked recursively; each event file's
directory (relative to the path given) is a run, and several files in one directory (restarts)
are read in name order as one run. ``SummaryWriter.add_scalars("loss", {"train": .., "val": ..})``
writes tag ``loss`` into sub-directories ``loss_train``/``loss_val``: these are folded back into
their parent run as tags ``loss/train`` and ``loss/val``.

Tags are recognised like table columns (``train/loss``, ``loss``, ``Loss/train``, ``val/loss``,
``eval/loss``, ``lr``, ``learning_rate``, ``train/learning_rate`` ...); ``columns`` maps tags.
A CRC mismatch is an error naming the file and byte offset; a record cut short at the end of a
file (a run still being written) keeps what came before it, with a warning.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders import _wire
from lrplan.loaders._common import logged, read_bytes, relative_run, runs_to_curves, warn

DT_FLOAT, DT_DOUBLE, DT_HALF, DT_BFLOAT16 = 1, 2, 19, 14


def is_event_file(name: str) -> bool:
    return "tfevents" in name


def looks_like_tfrecord(head: bytes) -> bool:
    """Whether ``head`` starts with a valid TFRecord length header."""
    return len(head) >= 12 and _wire.masked_crc32c(head[:8]) == struct.unpack("<I", head[8:12])[0]


def _tensor_scalar(buf: bytes) -> float | None:
    dtype, dims, content, values = None, 0, None, []
    for num, wt, val in _wire.fields(buf):
        if num == 1 and wt == 0:
            dtype = val
        elif num == 2 and wt == 2:
            dims = sum(1 for n, _, _ in _wire.fields(val) if n == 2)
        elif num == 4 and wt == 2:
            content = val
        elif num == 5:
            values += _wire.unpack_reals(wt, val, double=False)
        elif num == 6:
            values += _wire.unpack_reals(wt, val, double=True)
        elif num == 13 and wt in (0, 2):  # half_val: uint16 bit patterns as varints
            bits = [val] if wt == 0 else _varints(val)
            values += [float(np.array(b & 0xFFFF, dtype=np.uint16).view(np.float16)) for b in bits]
    if dims != 0 or dtype not in (DT_FLOAT, DT_DOUBLE, DT_HALF, DT_BFLOAT16):
        return None
    if content:
        width = {DT_FLOAT: 4, DT_DOUBLE: 8, DT_HALF: 2, DT_BFLOAT16: 2}[dtype]
        if len(content) != width:
            return None
        if dtype == DT_FLOAT:
            return struct.unpack("<f", content)[0]
        if dtype == DT_DOUBLE:
            return struct.unpack("<d", content)[0]
        if dtype == DT_HALF:
            return float(np.frombuffer(content, dtype=np.float16)[0])
        return struct.unpack("<f", b"\x00\x00" + content)[0]  # bfloat16 = high half of a float32
    return values[0] if len(values) == 1 else None


def _varints(buf: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(buf):
        v, pos = _wire.read_varint(buf, pos)
        out.append(v)
    return out


def parse_event(payload: bytes) -> tuple[int | None, float | None, list[tuple[str, float]]]:
    """``(step, wall_time, [(tag, value), ...])`` of one Event (scalars only)."""
    step, wall, scalars = None, None, []
    for num, wt, val in _wire.fields(payload):
        if num == 1 and wt == 1:
            wall = struct.unpack("<d", val)[0]
        elif num == 2 and wt == 0:
            step = _wire.as_int64(val)
        elif num == 5 and wt == 2:
            for vnum, vwt, vbuf in _wire.fields(val):
                if vnum != 1 or vwt != 2:
                    continue
                tag, value = None, None
                for f, fwt, fv in _wire.fields(vbuf):
                    if f == 1 and fwt == 2:
                        tag = fv.decode("utf-8", errors="replace")
                    elif f == 2 and fwt == 5:
                        value = struct.unpack("<f", fv)[0]
                    elif f == 8 and fwt == 2:
                        value = _tensor_scalar(fv)
                if tag is not None and value is not None:
                    scalars.append((tag, float(value)))
    return step, wall, scalars


def read_event_file(path: Path) -> list[tuple[int, str, float]]:
    """All scalar ``(step, tag, value)`` of one event file, in file order."""
    data = read_bytes(path, "event file")
    out: list[tuple[int, str, float]] = []
    nrec = 0
    try:
        for offset, payload in _wire.records(data):
            nrec += 1
            try:
                step, _, scalars = parse_event(payload)
            except (_wire.WireError, struct.error) as e:
                raise LoadError(f"{path}: malformed Event at byte {offset} ({e})") from None
            for tag, value in scalars:
                out.append((0 if step is None else step, tag, value))
    except _wire.CorruptRecord as e:
        what = "not a TensorBoard event file" if e.offset == 0 else "corrupt event file"
        raise LoadError(f"{path}: {what} ({e.why} at byte {e.offset})") from None
    except _wire.TruncatedRecord as e:
        if nrec == 0:
            raise LoadError(f"{path}: truncated event file (first record cut short at byte {e.offset})") from None
        warn(f"{path}: truncated record at byte {e.offset} of {len(data)}; kept the {nrec} record(s) before it")
    return out


def find_event_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found += [Path(dirpath) / f for f in sorted(filenames) if is_event_file(f)]
    return found


def load_tensorboard(path: Path, columns: Mapping[str, str] | None = None) -> Curves:
    """Load one event file or every event file under a directory (one run per directory)."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path}: no such file or directory")
    files = find_event_files(path)
    if not files:
        raise LoadError(f"{path}: no TensorBoard event files (events.out.tfevents.*) under this directory")
    root = path if path.is_dir() else path.parent
    by_dir: dict[Path, list[tuple[int, str, float]]] = {}
    for f in files:
        by_dir.setdefault(f.parent, []).extend(read_event_file(f))
    by_run: dict[str, list[tuple[int, str, float]]] = {}
    for d, obs in by_dir.items():
        run_dir, obs = _fold_add_scalars(d, obs, root)
        by_run.setdefault(relative_run(root, run_dir), []).extend(obs)
    items = [(run, pd.DataFrame.from_records([{"step": s, t: logged(v)} for s, t, v in obs]) if obs else None,
              {"file": str(path)}) for run, obs in by_run.items()]
    return runs_to_curves(items, source=str(path), fmt="tensorboard", columns=columns,
                          agg={"train": "step", "val": "eval_mean"}, what="loss scalar")


def _fold_add_scalars(d: Path, obs, root: Path):
    """``add_scalars(main, {k: v})`` writes tag ``main`` into ``<run>/<main>_<k>``: fold it back."""
    tags = {t for _, t, _ in obs}
    if len(tags) != 1 or d.resolve() == root.resolve():
        return d, obs
    main = next(iter(tags))
    prefix = main.replace("/", "_") + "_"
    if d.name.startswith(prefix) and len(d.name) > len(prefix):
        key = d.name[len(prefix):]
        return d.parent, [(s, f"{main}/{key}", v) for s, _, v in obs]
    return d, obs

"""Writers used to build the binary loader fixtures (TensorBoard events, MLflow SQLite store).

They write the real formats byte for byte: TFRecord framing with masked CRC-32C and Event protobuf
messages (field numbers of tensorflow/core/util/event.proto and summary.proto), and MLflow's
SQLite tables with their real column names. ``tests/fixtures/logs/make_fixtures.py`` uses them.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from lrplan.loaders._wire import frame_record


# -- protobuf encoding --------------------------------------------------------------------------
def varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field: int, wtype: int) -> bytes:
    return varint(field << 3 | wtype)


def ld(field: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return key(field, 2) + varint(len(payload)) + payload


def event(step: int, wall_time: float, values: list[bytes] | None = None, file_version: str | None = None) -> bytes:
    msg = key(1, 1) + struct.pack("<d", wall_time)
    if step:
        msg += key(2, 0) + varint(step)
    if file_version is not None:
        msg += ld(3, file_version.encode())
    if values:
        msg += ld(5, b"".join(ld(1, v) for v in values))
    return msg


def simple_value(tag: str, value: float) -> bytes:
    """Old-style scalar: ``Value{tag=1, simple_value=2}``."""
    return ld(1, tag.encode()) + key(2, 5) + struct.pack("<f", value)


def tensor_value(tag: str, value: float, double: bool = False, packed: bool = False) -> bytes:
    """New-style scalar: a rank-0 tensor with ``plugin_name="scalars"`` metadata.

    ``packed`` stores the number in ``float_val``/``double_val`` instead of ``tensor_content``.
    """
    dtype = 2 if double else 1
    tensor = key(1, 0) + varint(dtype) + ld(2, b"")  # empty TensorShapeProto = rank 0
    raw = struct.pack("<d" if double else "<f", value)
    tensor += ld(6 if double else 5, raw) if packed else ld(4, raw)
    metadata = ld(1, ld(1, b"scalars"))  # SummaryMetadata{plugin_data{plugin_name}}
    return ld(1, tag.encode()) + ld(9, metadata) + ld(8, tensor)


def histogram_tensor(tag: str) -> bytes:
    """A rank-2 float tensor (what TF2 histograms look like): must be skipped."""
    shape = ld(2, key(1, 0) + varint(2)) + ld(2, key(1, 0) + varint(3))
    tensor = key(1, 0) + varint(1) + ld(2, shape) + ld(4, struct.pack("<6f", *range(6)))
    return ld(1, tag.encode()) + ld(8, tensor)


def write_events(path: Path, events: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(frame_record(e) for e in events))
    return path


# -- MLflow sqlite store ------------------------------------------------------------------------
MLFLOW_SCHEMA = """
CREATE TABLE experiments (experiment_id INTEGER NOT NULL, name VARCHAR(256) NOT NULL,
    artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT,
    CONSTRAINT experiment_pk PRIMARY KEY (experiment_id));
CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL, name VARCHAR(250), source_type VARCHAR(20),
    source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9),
    start_time BIGINT, end_time BIGINT, deleted_time BIGINT, source_version VARCHAR(50),
    lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id INTEGER,
    CONSTRAINT run_pk PRIMARY KEY (run_uuid));
CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL,
    run_uuid VARCHAR(32) NOT NULL, step BIGINT DEFAULT '0' NOT NULL, is_nan BOOLEAN DEFAULT '0' NOT NULL,
    CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
CREATE TABLE latest_metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT,
    step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL, run_uuid VARCHAR(32) NOT NULL,
    CONSTRAINT latest_metric_pk PRIMARY KEY (key, run_uuid));
CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), run_uuid VARCHAR(32) NOT NULL,
    CONSTRAINT tag_pk PRIMARY KEY (key, run_uuid));
CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,
    CONSTRAINT param_pk PRIMARY KEY (key, run_uuid));
"""


def write_mlflow_db(path: Path, experiments: dict[int, str], runs: list[dict]) -> Path:
    """``runs``: dicts with run_uuid, name, experiment_id, lifecycle_stage, params, metrics
    (list of (key, value, timestamp, step)) where value None means NaN (is_nan=1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    con.executescript(MLFLOW_SCHEMA)
    for eid, name in experiments.items():
        con.execute("INSERT INTO experiments VALUES (?, ?, ?, 'active', 1721450000000, 1721450000000)",
                    (eid, name, f"mlflow-artifacts:/{eid}"))
    for r in runs:
        con.execute("INSERT INTO runs VALUES (?, ?, 'LOCAL', 'train.py', '', 'ana', 'FINISHED', ?, ?, NULL, '', ?, ?, ?)",
                    (r["run_uuid"], r["name"], 1721450900000, 1721454500000, r.get("lifecycle_stage", "active"),
                     f"mlflow-artifacts:/{r['experiment_id']}/{r['run_uuid']}/artifacts", r["experiment_id"]))
        con.execute("INSERT INTO tags VALUES ('mlflow.runName', ?, ?)", (r["name"], r["run_uuid"]))
        for k, v in r.get("params", {}).items():
            con.execute("INSERT INTO params VALUES (?, ?, ?)", (k, str(v), r["run_uuid"]))
        latest = {}
        for k, v, ts, step in r["metrics"]:
            con.execute("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
                        (k, 0.0 if v is None else v, ts, r["run_uuid"], step, 1 if v is None else 0))
            latest[k] = (0.0 if v is None else v, ts, step, 1 if v is None else 0)
        for k, (v, ts, step, nan) in latest.items():
            con.execute("INSERT INTO latest_metrics VALUES (?, ?, ?, ?, ?, ?)", (k, v, ts, step, nan, r["run_uuid"]))
    con.commit()
    con.close()
    return path

"""Format auto-detection: by file name, directory structure, then content sniffing.

Order for a directory: lrplan trainer run folders (``meta.json`` + ``curves.csv``), MLflow runs (``*/metrics/`` beside ``meta.yaml``), an ``mlflow.db``,
TensorBoard event files, ``trainer_state.json`` (also in ``checkpoint-*/``), Lightning
``metrics.csv``. For a file: ``events.out.tfevents*`` or a valid TFRecord header -> tensorboard;
SQLite header -> mlflow-sqlite; ``trainer_state.json`` or JSON with ``log_history`` -> HF;
a file inside ``<run>/metrics/`` -> MLflow; a CSV header ``epoch,step,..`` with ``*_step``/
``*_epoch``/``lr-*`` columns (or named ``metrics.csv``) -> lightning; a header ``Step,"<run> -
<metric>"`` -> wandb-export; JSON/CSV with ``_step``/``_runtime`` -> wandb-history; a CSV/JSON
table with a recognised step or loss column -> table; else a text-log dialect by its lines.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Mapping

from lrplan.errors import LoadError
from lrplan.loaders._common import GZIP_MAGIC, classify, gunzip, looks_like_json, plain_name
from lrplan.loaders.mlflow import SQLITE_MAGIC
from lrplan.loaders.tensorboard import is_event_file, looks_like_tfrecord
from lrplan.loaders.textlogs import sniff
from lrplan.loaders.wandb import is_export_header

#: bytes read for sniffing (modded-nanogpt logs start with the whole training script)
HEAD = 1 << 20
_MLFLOW_LINE = re.compile(r"^\d+ \S+( -?\d+)?$")


def detect(path: str | os.PathLike, columns: Mapping[str, str] | None = None) -> str:
    """The format name of ``path`` (see :data:`lrplan.loaders.FORMATS`)."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path}: no such file or directory")
    if path.is_dir():
        return _detect_dir(path)
    name = plain_name(path).name.lower()
    if is_event_file(name):
        return "tensorboard"
    if name.endswith(".wandb"):
        raise LoadError(f"{path}: an offline W&B run file (binary, unreadable without wandb); run 'wandb sync' "
                        "and export the history (run.history() to CSV/JSON, or a panel's Export CSV)")
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD)
    except OSError as e:
        raise LoadError(f"{path}: cannot read ({e.strerror or e})") from None
    if head[:2] == GZIP_MAGIC:
        head = gunzip(path, limit=HEAD)
    if not head.strip():
        raise LoadError(f"{path}: empty file")
    if head.startswith(SQLITE_MAGIC):
        return "mlflow-sqlite"
    if looks_like_tfrecord(head):
        return "tensorboard"
    if b"\x00" in head:
        raise LoadError(f"{path}: binary file of unknown format (not a TensorBoard event file or SQLite store)")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if name == "trainer_state.json":
        return "hf"
    if looks_like_json(text):
        if '"log_history"' in text and text.lstrip()[:1] == "{":
            return "hf"
        return "wandb-history" if re.search(r'"_(step|runtime|timestamp)"', text) else "table"
    if "metrics" in [p.name for p in path.parents][:3] and _mlflow_lines(text):
        return "mlflow"
    header = _csv_header(text)
    if header:
        lows = {h.strip().lower() for h in header}
        if name == "metrics.csv" and "step" in lows or ({"epoch", "step"} <= lows and any(
                h.endswith(("_step", "_epoch")) or h.startswith("lr-") for h in lows)):
            return "lightning"
        if is_export_header(header):
            return "wandb-export"
        if lows & {"_step", "_runtime", "_timestamp"}:
            return "wandb-history"
        if any(classify(h) for h in header) or any(h in (columns or {}) for h in header):
            return "table"
    dialect = sniff(text)
    if dialect:
        return dialect
    if header and len(header) >= 2:
        return "table"
    raise LoadError(f"{path}: unknown log format (not a table with step/loss columns, a known framework log, "
                    "TensorBoard, MLflow, HF or Lightning); pass --format")


def _mlflow_lines(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines()[:50] if line.strip()]
    return bool(lines) and all(_MLFLOW_LINE.match(line) for line in lines[:-1])


def _csv_header(text: str) -> list[str] | None:
    first = text.split("\n", 1)[0].strip("\r")
    if not first or ("," not in first and "\t" not in first):
        return None
    sep = "\t" if "\t" in first and "," not in first else ","
    try:
        row = next(csv.reader(io.StringIO(first), delimiter=sep))
    except (csv.Error, StopIteration):
        return None
    return [c.strip() for c in row] if len(row) >= 2 else None


def _detect_dir(path: Path) -> str:
    has = {"lrplan-run": False, "mlflow": False, "mlflow-sqlite": False, "tensorboard": False, "hf": False,
           "lightning": False}
    for dirpath, dirnames, filenames in os.walk(path):
        d = Path(dirpath)
        if "meta.json" in filenames and "curves.csv" in filenames:
            has["lrplan-run"] = True
        if "metrics" in dirnames and ("meta.yaml" in filenames or "params" in dirnames or "tags" in dirnames
                                      or "mlruns" in d.parts):
            has["mlflow"] = True
        if d.name == "metrics" and d.parent.joinpath("meta.yaml").exists():
            has["mlflow"] = True
        if "mlflow.db" in filenames and d == path:
            has["mlflow-sqlite"] = True
        if any(is_event_file(f) for f in filenames):
            has["tensorboard"] = True
        if "trainer_state.json" in filenames:
            has["hf"] = True
        if "metrics.csv" in filenames:
            has["lightning"] = True
        dirnames[:] = [x for x in dirnames if x not in ("artifacts", ".trash")]
    for fmt, found in has.items():
        if found:
            return fmt
    raise LoadError(f"{path}: no recognised logs in this directory (TensorBoard events, mlruns/, mlflow.db, "
                    "trainer_state.json, Lightning metrics.csv, lrplan run folders); give a file instead")

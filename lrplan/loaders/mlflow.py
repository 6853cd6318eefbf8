"""MLflow tracking data, read with the standard library only (no mlflow dependency).

**File store** ``mlruns/<experiment_id>/<run_id>/metrics/<key>``: one line per logged value,
``"<timestamp_ms> <value> <step>"`` (old files: ``"<timestamp_ms> <value>"``, no step). Keys with
``/`` are nested sub-directories (``metrics/train/loss`` is key ``train/loss``). The run name
comes from ``tags/mlflow.runName`` or ``run_name:`` in the run's ``meta.yaml`` (else the run
id). The path may be ``mlruns/``, an experiment, a run or its ``metrics/`` directory; runs in
``.trash`` are skipped. A metric file whose lines have no step (all old-style) gets the line
number as step, with a warning.

**SQLite store** (``mlflow.db``, the default backend of recent MLflow): table
``metrics(key, value, timestamp, step, is_nan, run_uuid)``; run names from ``runs.name`` or the
``mlflow.runName`` tag; runs whose ``lifecycle_stage`` is ``deleted`` are skipped; ``is_nan``
rows are NaN (dropped with a warning).

Keys are recognised like table columns (``loss``, ``train_loss``, ``train/loss``, ``val_loss``,
``eval_loss``, ``lr``, ``learning_rate``, ...; ``columns`` maps keys). Values of different keys
logged at the same step are joined (the LR of a loss row). Aggregation recorded: train ``step``,
eval ``eval_mean``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Mapping

import pandas as pd

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders._common import logged, read_bytes, runs_to_curves, warn

SQLITE_MAGIC = b"SQLite format 3\x00"
_AGG = {"train": "step", "val": "eval_mean"}


# -- file store ---------------------------------------------------------------------------------
def find_run_dirs(path: Path) -> list[Path]:
    """Run directories (those holding a ``metrics/`` directory) at or under ``path``."""
    path = Path(path)
    if path.name == "metrics" and path.is_dir():
        return [path.parent]
    runs = []
    for dirpath, dirnames, _ in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in (".trash", "metrics", "artifacts", "params", "tags"))
        if os.path.isdir(os.path.join(dirpath, "metrics")):
            runs.append(Path(dirpath))
    return runs


def _yaml_field(path: Path, key: str) -> str | None:
    try:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(f"{key}:"):
                value = line.split(":", 1)[1].strip().strip("'\"")
                return value or None
    except OSError:
        return None
    return None


def run_name(run_dir: Path) -> str:
    tag = run_dir / "tags" / "mlflow.runName"
    if tag.is_file():
        name = tag.read_text(encoding="utf-8", errors="replace").strip()
        if name:
            return name
    return _yaml_field(run_dir / "meta.yaml", "run_name") or run_dir.name


def read_metric_file(path: Path) -> tuple[list[int | None], list[float]]:
    """Steps (None when a line has no step) and values of one metric file."""
    text = read_bytes(path, "metric file")
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise LoadError(f"{path}: not an MLflow metric file (binary content)") from None
    steps, values = [], []
    for i, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (2, 3):
            raise LoadError(f"{path}: line {i}: expected '<timestamp> <value> [<step>]', got {line[:60]!r}")
        try:
            int(parts[0])
            value = float(parts[1])
            step = int(parts[2]) if len(parts) == 3 else None
        except ValueError:
            raise LoadError(f"{path}: line {i}: expected '<timestamp> <value> [<step>]', got {line[:60]!r}") from None
        steps.append(step)
        values.append(value)
    return steps, values


def load_mlflow_files(path: Path, columns: Mapping[str, str] | None = None) -> Curves:
    """Load the MLflow file store at/under ``path`` (one run per run directory)."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path}: no such file or directory")
    if path.is_file():  # a single metric file inside <run>/metrics/
        metrics_dir = next((p for p in path.parents if p.name == "metrics"), None)
        if metrics_dir is None:
            raise LoadError(f"{path}: not inside an MLflow <run>/metrics/ directory")
        run_dirs, only = [metrics_dir.parent], path
    else:
        run_dirs, only = find_run_dirs(path), None
    if not run_dirs:
        raise LoadError(f"{path}: no MLflow runs (<experiment>/<run>/metrics/) under this directory")
    names: dict[str, int] = {}
    items = []
    for rd in run_dirs:
        frame, no_steps = _run_frame(rd, only)
        if no_steps:
            warn(f"{rd / 'metrics'}: key(s) {', '.join(no_steps[:5])} have no steps (old 2-field lines); "
                 "used the line number as step")
        name = run_name(rd)
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            name = f"{name}-{rd.name[:8]}"
        items.append((name, frame, {"file": str(rd), "run_id": rd.name, "experiment_id": rd.parent.name}))
    return runs_to_curves(items, source=str(path), fmt="mlflow", columns=columns, agg=_AGG)


def _run_frame(run_dir: Path, only: Path | None):
    mdir = run_dir / "metrics"
    files = [only] if only is not None else sorted(p for p in mdir.rglob("*") if p.is_file())
    rows, no_steps = [], []
    for f in files:
        key = f.relative_to(mdir).as_posix()
        steps, values = read_metric_file(f)
        if steps and all(s is None for s in steps):
            steps = list(range(len(steps)))
            no_steps.append(key)
        steps = [0 if s is None else s for s in steps]
        rows.append(pd.DataFrame({"step": steps, key: [logged(v) for v in values]}))
    if not rows:
        return None, no_steps
    return pd.concat(rows, ignore_index=True), no_steps


# -- sqlite store -------------------------------------------------------------------------------
def load_mlflow_sqlite(path: Path, columns: Mapping[str, str] | None = None) -> Curves:
    """Load every run's metrics from an MLflow SQLite store (``mlflow.db``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "mlflow.db"
    _check_sqlite_file(path, read_bytes(path, "database"))
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise LoadError(f"{path}: cannot open the database ({e})") from None
    con.text_factory = lambda b: b.decode("utf-8", errors="replace")  # damaged text must not stop the read
    try:
        return _load_sqlite(con, path, columns)
    except sqlite3.Error as e:
        raise LoadError(f"{path}: unreadable MLflow database ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    except UnicodeDecodeError:  # SQLite's message quotes a damaged schema that is not UTF-8
        raise LoadError(f"{path}: unreadable MLflow database (damaged schema)") from None
    finally:
        con.close()


def _check_sqlite_file(path: Path, data: bytes) -> None:
    """The SQLite header (https://sqlite.org/fileformat.html): magic, page size (offset 16) and,
    when valid (offset 92 == change counter at 24), the page count (offset 28) that tells a
    truncated copy, which SQLite itself may read without complaint."""
    if not data.startswith(SQLITE_MAGIC):
        raise LoadError(f"{path}: not an SQLite database")
    if len(data) < 100:
        raise LoadError(f"{path}: truncated SQLite database ({len(data)} bytes)")
    page = int.from_bytes(data[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(data[28:32], "big")
    if data[92:96] == data[24:28] and pages and len(data) < pages * page:
        raise LoadError(f"{path}: truncated SQLite database ({len(data)} of {pages * page} bytes)")


def _rows(con, sql: str) -> pd.DataFrame:
    cur = con.execute(sql)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def _table_columns(con, table: str) -> set[str]:
    return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}


def _load_sqlite(con, path: Path, columns) -> Curves:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    need = {"key", "value", "step", "run_uuid"}
    if "metrics" not in tables or not need <= _table_columns(con, "metrics"):
        raise LoadError(f"{path}: no MLflow 'metrics(key, value, timestamp, step, is_nan, run_uuid)' table")
    mcols = _table_columns(con, "metrics")
    nan = "is_nan" if "is_nan" in mcols else "0"
    order = "timestamp, step" if "timestamp" in mcols else "step"
    metrics = _rows(con, f"SELECT run_uuid, key, value, step, {nan} AS is_nan FROM metrics ORDER BY run_uuid, key, {order}")
    if len(metrics) == 0:
        raise LoadError(f"{path}: the metrics table is empty")
    names, deleted, experiments = _sqlite_runs(con, tables)
    metrics = metrics[~metrics["run_uuid"].isin(deleted)]
    metrics["value"] = [logged(float("nan") if n else v) for v, n in zip(metrics["value"], metrics["is_nan"])]
    items, seen = [], {}
    for run_uuid, g in metrics.groupby("run_uuid", sort=False):
        name = names.get(run_uuid) or run_uuid
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}-{run_uuid[:8]}"
        frame = pd.concat([pd.DataFrame({"step": kg["step"].to_numpy(), key: kg["value"].to_numpy()})
                           for key, kg in g.groupby("key", sort=True)], ignore_index=True)
        extra = {"file": str(path), "run_id": run_uuid}
        if run_uuid in experiments:
            extra["experiment"] = experiments[run_uuid]
        items.append((name, frame, extra))
    return runs_to_curves(items, source=str(path), fmt="mlflow-sqlite", columns=columns, agg=_AGG)


def _sqlite_runs(con, tables: set[str]):
    names: dict[str, str] = {}
    deleted: set[str] = set()
    experiments: dict[str, str] = {}
    if "tags" in tables and {"key", "value", "run_uuid"} <= _table_columns(con, "tags"):
        for run_uuid, value in con.execute("SELECT run_uuid, value FROM tags WHERE key = 'mlflow.runName'"):
            if value:
                names[run_uuid] = str(value)
    if "runs" in tables:
        rcols = _table_columns(con, "runs")
        if {"run_uuid", "name"} <= rcols:
            for run_uuid, name in con.execute("SELECT run_uuid, name FROM runs"):
                if name:
                    names[run_uuid] = str(name)
        if {"run_uuid", "lifecycle_stage"} <= rcols:
            deleted = {r[0] for r in con.execute("SELECT run_uuid FROM runs WHERE lifecycle_stage = 'deleted'")}
        if {"run_uuid", "experiment_id"} <= rcols and "experiments" in tables:
            for run_uuid, exp in con.execute(
                    "SELECT r.run_uuid, e.name FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id"):
                experiments[run_uuid] = str(exp)
    return names, deleted, experiments

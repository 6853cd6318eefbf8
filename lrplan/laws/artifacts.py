"""Fit artifacts: versioned JSON files written atomically, and shipped fits found by name.

``save_fit(law, path, schedules=...)`` writes ``law.to_dict()`` (law, options, peak LR,
parameters in absolute units, bootstrap / leave-one-out parameter sets, fit report, fitting-data
summary incl. the schedule of each run, lrplan version). ``load_fit(path_or_name)`` reads a file,
or a shipped fit by name (``mpl-100m-auto``) from the top-level ``fits/`` folder of a source
checkout or ``lrplan/_shipped_fits`` inside a wheel.
"""

from __future__ import annotations

import json
from pathlib import Path

import lrplan
from lrplan import _io
from lrplan.errors import LrplanError
from lrplan.laws.base import Law


def fits_dirs() -> list[Path]:
    here = Path(lrplan.__file__).resolve().parent
    return [d for d in (here.parent / "fits", here / "_shipped_fits") if d.is_dir()]


def shipped_fits() -> dict[str, Path]:
    """Shipped fit names -> paths."""
    out = {}
    for d in fits_dirs():
        for p in sorted(d.glob("*.json")):
            out.setdefault(p.stem, p)
    return out


def save_fit(law: Law, path) -> Path:
    """Write the artifact of a fitted law atomically."""
    return _io.write_json(path, law.to_dict())


def load_fit(path_or_name) -> Law:
    """A fitted law from an artifact path or a shipped fit name."""
    p = Path(str(path_or_name))
    if not p.is_file():
        shipped = shipped_fits()
        name = p.name[:-5] if p.name.endswith(".json") else p.name
        if name in shipped and not p.exists():
            p = shipped[name]
        else:
            names = ", ".join(shipped) or "none"
            raise LrplanError(f"{path_or_name}: no such fit file or shipped fit name (shipped: {names})")
    try:
        d = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LrplanError(f"{p}: cannot read fit artifact ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    if not isinstance(d, dict):
        raise LrplanError(f"{p}: not an lrplan fit artifact")
    try:
        return Law.from_dict(d)
    except LrplanError as e:
        raise LrplanError(f"{p}: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise LrplanError(f"{p}: malformed fit artifact ({type(e).__name__}: {e})") from None

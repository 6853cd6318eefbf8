"""Optimal peak LR and batch size as functions of scale: fit from a grid, or use a published law.

:class:`HparamLaw` is a scikit-learn-like estimator::

    law = HparamLaw(method="joint").fit(grid)      # grid from lrplan.hparams.load_grid
    lr, batch_tokens = law.predict(N=1e9, D=2e10)
    law.interval(N=1e9, D=2e10)                    # bootstrap percentiles
    law.plateau(N=1e9, D=2e10, tol=0.0025)          # region within 0.25 % of the optimum

Methods (how the optimum of each (N, D) cell enters the law; hparam-laws.md section 7):

* ``grid``: the cell's grid argmin, OLS over cells;
* ``near``: Step Law's recipe (Li et al. 2025, arXiv:2503.04715): every run within ``tol`` (0.25 %)
  of its cell minimum is a row of the OLS;
* ``surrogate``: the centre of each cell's convex quadratic bowl (:mod:`lrplan.hparams.optimum`),
  OLS over the cells whose optimum is not on the grid edge;
* ``joint`` (default): all runs at once through the joint model of :mod:`lrplan.hparams.joint`,
  by default with a skewed bowl that may rise faster on the high-LR side (``skew``; the asymmetry is
  then used by :meth:`HparamLaw.plateau` and :meth:`HparamLaw.excess` too). ``skew=False`` restores
  the symmetric bowl. On the Step Law grid the skew lowered the held-out regret (benchmarks/RESULTS.md).

Law forms: LR* = a prod x^e over ``lr_terms`` (default N, D) and B* = b prod x^e over
``batch_terms`` (default D; add N for B*(N, D)); ``("C",)`` gives the compute forms LR*(C), B*(C)
with C = M x D under ``accounting`` (:mod:`lrplan.hparams.compute`). Batch is in tokens, LR is the
absolute peak LR, N is whatever parameter count the grid's N column holds (record it in ``n_kind``).

Uncertainty: ``n_boot`` bootstrap refits, resampling runs within each cell (``bootstrap="runs"``)
or whole cells (``"cells"``); :meth:`HparamLaw.interval` gives percentiles of the predictions.
A law belongs to the schedule it was fitted under (``schedule``, a family name such as
``cosine`` or ``wsd``): :func:`lrplan.hparams.recommend.recommend` warns when a plan uses another.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrplan.errors import ConfigError, FitError, LrplanWarning
from lrplan.hparams.compute import NEEDS, training_compute
from lrplan.hparams.optimum import FOCUS, TOL, WINDOW, cell_optima, optima_frame, plateau_half_widths
from lrplan.hparams.powerlaw import PowerLaw, fit_power_law, identifiable_terms

FORMAT = "lrplan.hparams/1"
METHODS = ("grid", "near", "surrogate", "joint")


@dataclass
class Interval:
    lr: tuple[float, float]
    batch: tuple[float, float] | None
    level: float


class HparamLaw:
    """LR*(N, D) and B*(N, D) laws (see module doc). Fitted attributes end in ``_``."""

    def __init__(self, method: str = "joint", lr_terms=("N", "D"), batch_terms=("D",), accounting: str = "6N",
                 tol: float = TOL, window: float = WINDOW, focus: float | None = FOCUS, n_boot: int = 0, bootstrap: str = "runs", seed: int = 0,
                 schedule: str | None = None, n_kind: str = "non-embedding", seq_len: int | None = None,
                 name: str | None = None, skew: bool | None = None):
        if method not in METHODS:
            raise ConfigError(f"method {method!r} unknown; choose one of {', '.join(METHODS)}")
        if bootstrap not in ("runs", "cells"):
            raise ConfigError(f"bootstrap must be 'runs' or 'cells', got {bootstrap!r}")
        for t in (*lr_terms, *batch_terms):
            if t not in ("N", "D", "C"):
                raise ConfigError(f"law term {t!r} unknown; terms are N, D and C")
        self.method, self.lr_terms, self.batch_terms = method, tuple(lr_terms), tuple(batch_terms)
        self.accounting, self.tol, self.window, self.focus = accounting, tol, window, focus
        self.n_boot, self.bootstrap, self.seed = n_boot, bootstrap, seed
        self.schedule, self.n_kind, self.seq_len, self.name = schedule, n_kind, seq_len, name
        if skew and method != "joint":
            raise ConfigError(f"skew is an option of the joint model (method 'joint'), not of {method!r}")
        self.skew = method == "joint" if skew is None else bool(skew)  # None: on for the joint model
        self.schedule_note: str | None = None

    # -- fitting -------------------------------------------------------------
    def _with_compute(self, grid: pd.DataFrame) -> pd.DataFrame:
        if "C" not in (*self.lr_terms, *self.batch_terms):
            return grid
        shape = {k: grid[k].to_numpy() for k in NEEDS[self.accounting] if k in grid}
        if "seq_len" in NEEDS[self.accounting] and "seq_len" not in shape and self.seq_len:
            shape["seq_len"] = self.seq_len
        try:
            C = training_compute(grid["D"].to_numpy(), self.accounting, N=grid["N"].to_numpy(), **shape)
        except ConfigError as e:
            raise ConfigError(f"{e} (columns of the grid)") from None
        return grid.assign(C=C)

    def _fit_once(self, grid: pd.DataFrame, warn: bool = True, known: dict | None = None):
        """(lr law, batch law or None, bowl Hessian, width exponent, d_ref, optima frame, skew k)."""
        optima = cell_optima(grid, tol=self.tol, window=self.window, focus=self.focus, known=known)
        opt = optima_frame(optima)
        cells = grid.groupby("cell").first().loc[opt["cell"]]
        X = {t: cells[t].to_numpy() if t in cells else None for t in ("N", "D", "C")}
        X = {t: v for t, v in X.items() if v is not None}
        two_d = np.isfinite(opt["plateau_batch_octaves"].to_numpy())
        lr_terms = identifiable_terms(X, self.lr_terms, "LR law", warn)
        batch_terms = identifiable_terms({t: v[two_d] for t, v in X.items()}, self.batch_terms, "batch law",
                                         warn) if two_d.sum() >= 2 else []
        hess = median_hessian(optima)
        if self.method == "joint":
            from lrplan.hparams.joint import fit_joint

            lr0 = fit_power_law(opt["lr_opt"], X, lr_terms, warn=False)
            b0 = fit_power_law(opt["batch_opt"], X, batch_terms, warn=False)
            jf = fit_joint(grid, lr_terms, batch_terms, self.window, start=(lr0, b0), hessian0=hess, focus=self.focus,
                           skew=self.skew)
            return jf.lr_law, jf.batch_law, jf.hessian, jf.width_exp, jf.d_ref, opt, jf.skew
        if self.method == "near":
            near = grid[grid["loss"] <= grid.groupby("cell")["loss"].transform("min") * (1 + self.tol)]
            Xn = {t: near[t].to_numpy() for t in X}
            lr_law = fit_power_law(near["lr"], Xn, lr_terms, what="LR law", warn=False)
            b_law = fit_power_law(near["batch"], Xn, batch_terms, what="batch law", warn=False) if two_d.any() else None
        else:
            col = "grid" if self.method == "grid" else "opt"
            use = np.ones(len(opt), bool)
            if self.method == "surrogate":
                use = np.array(opt["edge"] == "", dtype=bool)
                if use.sum() < max(2, len(lr_terms) + 1):
                    use[:] = True
                elif (~use).any() and warn:
                    warnings.warn(LrplanWarning(f"left out {int((~use).sum())} cell(s) whose optimum is on the grid "
                                                f"edge: {', '.join(opt['cell'][~use])}"), stacklevel=3)
            lr_law = fit_power_law(opt[f"lr_{col}"][use], {t: v[use] for t, v in X.items()}, lr_terms, warn=False)
            ub = use & two_d
            b_law = (fit_power_law(opt[f"batch_{col}"][ub], {t: v[ub] for t, v in X.items()}, batch_terms, warn=False)
                     if ub.any() else None)
        return lr_law, b_law, hess, 0.0, float(np.exp(np.log(cells["D"]).mean())), opt, 0.0

    def fit(self, grid: pd.DataFrame, optima: dict | None = None) -> "HparamLaw":
        """Fit to a canonical grid (:func:`lrplan.hparams.grid.load_grid`) or a raw results table.

        ``optima`` (cell -> :class:`~lrplan.hparams.optimum.CellOptimum`, computed from the same runs
        with this law's ``tol``/``window``/``focus``) skips refitting those cells' bowls, e.g. across
        leave-one-cell-out refits; the result is the same as without it."""
        from lrplan.hparams.grid import check_cells, load_grid

        if not {"cell", "batch"} <= set(grid.columns):
            grid = load_grid(grid, seq_len=self.seq_len)
        check_cells(grid)
        grid = self._with_compute(grid)
        if grid["cell"].nunique() < 2:
            raise FitError("a scaling law needs at least 2 (N, D) cells; the grid has 1")
        lr_law, b_law, hess, w, d_ref, opt, k = self._fit_once(grid, known=optima)
        if b_law is None:
            warnings.warn(LrplanWarning("no cell has 3 or more batch sizes: batch law not fitted (LR law only)"),
                          stacklevel=2)
        self.lr_law_, self.batch_law_, self.hessian_, self.width_exp_, self.d_ref_ = lr_law, b_law, hess, w, d_ref
        self.skew_ = k
        self.optima_ = opt
        self.n_runs_, self.n_cells_ = len(grid), grid["cell"].nunique()
        self.range_ = {t: [float(grid[t].min()), float(grid[t].max())] for t in ("N", "D")}
        self.boot_ = self._bootstrap(grid) if self.n_boot else None
        return self

    def _bootstrap(self, grid: pd.DataFrame) -> dict:
        rng = np.random.default_rng(self.seed)
        cells = list(grid.groupby("cell", sort=False))
        lr_rows, b_rows = [], []
        for _ in range(self.n_boot):
            if self.bootstrap == "runs":
                parts = [g.iloc[rng.integers(0, len(g), len(g))] for _, g in cells]
            else:
                pick = rng.integers(0, len(cells), len(cells))
                parts = [cells[i][1].assign(cell=f"{cells[i][0]}#{j}") for j, i in enumerate(pick)]
            sample = pd.concat(parts, ignore_index=True)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lr_law, b_law, *_ = self._fit_once(sample, warn=False)
            except (FitError, np.linalg.LinAlgError, ValueError):
                continue
            lr_rows.append(_coef(lr_law, self.lr_law_))
            if b_law is not None and self.batch_law_ is not None:
                b_rows.append(_coef(b_law, self.batch_law_))
        if len(lr_rows) < max(10, self.n_boot // 2):
            warnings.warn(LrplanWarning(f"only {len(lr_rows)} of {self.n_boot} bootstrap refits succeeded; "
                                        "intervals are unreliable"), stacklevel=3)
        return {"kind": self.bootstrap, "lr": np.array(lr_rows).tolist(), "batch": np.array(b_rows).tolist()}

    # -- prediction ----------------------------------------------------------
    def _check(self):
        if not hasattr(self, "lr_law_"):
            raise FitError("this HparamLaw is not fitted yet; call fit(grid) first")

    def _x(self, N, D, shape: dict | None) -> dict:
        x = {"N": N, "D": D}
        if "C" in self.lr_law_.exponents or (self.batch_law_ is not None and "C" in self.batch_law_.exponents):
            shape = dict(shape or {})
            if "seq_len" in NEEDS[self.accounting]:
                shape.setdefault("seq_len", self.seq_len)
            x["C"] = training_compute(D, self.accounting, N=N, **{k: shape.get(k) for k in NEEDS[self.accounting]})
        return x

    def predict(self, N, D, **shape) -> tuple:
        """(peak LR, batch in tokens) at N parameters and D tokens; batch is NaN without a batch law.
        ``shape`` (n_layer, d_model, d_ff, seq_len) is needed only by compute-based laws."""
        self._check()
        x = self._x(N, D, shape)
        lr = self.lr_law_(**x)
        b = self.batch_law_(**x) if self.batch_law_ is not None else np.full(np.shape(lr), np.nan)
        return lr, b

    def interval(self, N, D, level: float = 0.9, **shape) -> Interval | None:
        """Bootstrap percentile interval of the predicted LR and batch (None without bootstrap)."""
        self._check()
        if not self.boot_ or not self.boot_["lr"]:
            return None
        x = self._x(N, D, shape)
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]

        def band(rows, law):
            preds = [PowerLaw.from_log_coef(list(law.exponents), r)(**x) for r in rows]
            lo, hi = np.percentile(preds, q)
            return float(lo), float(hi)

        b = band(self.boot_["batch"], self.batch_law_) if self.batch_law_ is not None and self.boot_["batch"] else None
        return Interval(lr=band(self.boot_["lr"], self.lr_law_), batch=b, level=level)

    def plateau(self, N, D, tol: float = TOL, **shape) -> dict | None:
        """LR and batch ranges of the region within ``tol`` (relative loss) of the optimum, from the
        fitted bowl curvature (None when the law has no curvature, e.g. a published preset)."""
        self._check()
        if self.hessian_ is None:
            return None
        lr, b = self.predict(N, D, **shape)
        h = np.array(self.hessian_, dtype=float) * (float(D) / self.d_ref_) ** (-self.width_exp_)
        wl, wb = plateau_half_widths(h, tol)
        lo, hi = skewed_range(wl, self.skew_)
        out = {"tol": tol, "lr": (float(lr * np.exp(lo)), float(lr * np.exp(hi)))}
        if np.isfinite(wb) and np.isfinite(b):
            out["batch"] = (float(b * np.exp(-wb)), float(b * np.exp(wb)))
        return out

    def excess(self, N, D, lr, batch) -> float:
        """Relative loss excess the bowl predicts at (lr, batch tokens) for the target (N, D)."""
        lr0, b0 = self.predict(N, D)
        h = np.nan_to_num(np.array(self.hessian_, dtype=float)) * (float(D) / self.d_ref_) ** (-self.width_exp_)
        dz = np.array([np.log(lr / lr0), np.log(batch / b0) if np.isfinite(b0) else 0.0])
        return float(0.5 * dz @ h @ dz * np.exp(self.skew_ * dz[0]))

    def lr_at_batch(self, N, D, batch, **shape) -> float:
        """Absolute LR with the least predicted excess at ``batch`` tokens for the target (N, D)
        (``shape`` as in :meth:`predict`): the
        bowl's ridge. Symmetric bowl: u = -h01/h00 v (u = ln(lr/LR*), v = ln(batch/B*)). Skewed bowl
        1/2 q(u, v) e^(k u): the local minimum in u, the root of k q + dq/du = 0 that continues the
        symmetric ridge (written 2C / (-B - sqrt(B^2 - 4 k h00 C)), exact at k = 0); where the skew
        leaves no minimum at this batch, the symmetric ridge. The LR law's LR* when the law has no
        batch part or no finite Hessian."""
        lr0, b0 = (float(v) for v in self.predict(N, D, **shape))
        h = None if self.hessian_ is None else np.asarray(self.hessian_, dtype=float)
        if h is None or not np.all(np.isfinite(h)) or not np.isfinite(b0) or not h[0, 0] > 0:
            return lr0
        a, c, d, k = h[0, 0], h[0, 1], h[1, 1], float(self.skew_ or 0.0)
        v = float(np.log(batch / b0))
        B, C = 2 * a + 2 * k * c * v, 2 * c * v + k * d * v * v
        disc = B * B - 4 * k * a * C
        u = 2 * C / (-B - np.sqrt(disc)) if disc >= 0 and B > 0 else -c * v / a
        return float(lr0 * np.exp(u))

    # -- persistence ---------------------------------------------------------
    def to_dict(self) -> dict:
        self._check()
        return {
            "format": FORMAT, "name": self.name, "method": self.method, "accounting": self.accounting,
            "n_kind": self.n_kind, "seq_len": self.seq_len, "schedule": self.schedule,
            "schedule_note": self.schedule_note, "tol": self.tol,
            "window": self.window, "lr": self.lr_law_.to_dict(),
            "batch": self.batch_law_.to_dict() if self.batch_law_ is not None else None,
            "bowl": None if self.hessian_ is None else {
                "hessian": [[None if not np.isfinite(v) else float(v) for v in row] for row in np.asarray(self.hessian_, dtype=float)],
                "width_exp": self.width_exp_,
                "skew": self.skew_,
                "d_ref": self.d_ref_},
            "fitted_on": {"runs": self.n_runs_, "cells": self.n_cells_, "range": self.range_,
                          "optima": None if self.optima_ is None else _jsonable(self.optima_)},
            "bootstrap": self.boot_,
        }

    @classmethod
    def from_dict(cls, d: dict, source: str = "<law>") -> "HparamLaw":
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise FitError(f"{source}: not an lrplan hyper-parameter law (expected format {FORMAT!r})")
        try:
            law = cls(accounting=d.get("accounting") or "6N",
                      tol=d.get("tol") or TOL, window=d.get("window") or WINDOW, schedule=d.get("schedule"),
                      n_kind=d.get("n_kind") or "non-embedding", seq_len=d.get("seq_len"), name=d.get("name"))
            law.method = str(d.get("method") or "joint")
            law.schedule_note = d.get("schedule_note")
            law.lr_law_ = PowerLaw.from_dict(d["lr"])
            law.batch_law_ = PowerLaw.from_dict(d["batch"]) if d.get("batch") else None
            law.lr_terms = tuple(law.lr_law_.exponents)
            law.batch_terms = tuple(law.batch_law_.exponents) if law.batch_law_ else ()
            bowl = d.get("bowl")
            law.hessian_ = None if not bowl else np.array([[np.nan if v is None else v for v in row]
                                                            for row in bowl["hessian"]], dtype=float)
            law.width_exp_ = float(bowl["width_exp"]) if bowl else 0.0
            law.skew_ = float(bowl.get("skew") or 0.0) if bowl else 0.0
            law.skew = bool(law.skew_)
            law.d_ref_ = float(bowl["d_ref"]) if bowl else 1.0
            fitted = d.get("fitted_on") or {}
            law.n_runs_, law.n_cells_ = fitted.get("runs"), fitted.get("cells")
            law.range_ = fitted.get("range")
            law.optima_ = pd.DataFrame(fitted["optima"]) if fitted.get("optima") else None
            law.boot_ = d.get("bootstrap")
        except (KeyError, TypeError, ValueError) as e:
            raise FitError(f"{source}: malformed law file ({type(e).__name__}: {e})") from None
        return law

    def save(self, path) -> None:
        from lrplan import _io

        _io.write_json(path, self.to_dict())

    @classmethod
    def load(cls, path) -> "HparamLaw":
        import json

        try:
            with open(path) as f:
                d = json.load(f)
        except json.JSONDecodeError as e:
            raise FitError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
        return cls.from_dict(d, source=str(path))

    def __repr__(self) -> str:
        if not hasattr(self, "lr_law_"):
            return f"HparamLaw(method={self.method!r}, unfitted)"
        b = self.batch_law_.formula("B*") if self.batch_law_ is not None else "no batch law"
        k = self.skew_
        return f"HparamLaw({self.lr_law_.formula('LR*')}; {b}{f'; bowl skew k = {k:.3g} per nat' if k else ''})"


def _coef(law: PowerLaw, like: PowerLaw) -> list[float]:
    """Log coefficients of ``law`` in the term order of ``like`` (missing terms: 0)."""
    return [float(np.log(law.prefactor))] + [law.exponents.get(t, 0.0) for t in like.exponents]


def skewed_range(half_width: float, k: float) -> tuple[float, float]:
    """(lo, hi) in ln(lr / LR*) where the skewed bowl 1/2 h u^2 e^(k u) reaches the level the symmetric
    bowl reaches at +-``half_width``: the roots of u^2 e^(k u) = half_width^2 around u = 0. On the
    shallow side the skewed bowl peaks at u = -2/k; when it stays below the level the range ends there."""
    if not k or not np.isfinite(half_width):
        return -half_width, half_width
    from scipy.optimize import brentq

    a = abs(k)
    f = lambda u: u * u * np.exp(a * u) - half_width * half_width  # noqa: E731
    steep = brentq(f, 0.0, half_width)
    turn = -2.0 / a
    shallow = brentq(f, turn, 0.0) if f(turn) > 0 else turn
    return (shallow, steep) if k > 0 else (-steep, -shallow)


def median_hessian(optima) -> np.ndarray:
    """Element-wise median bowl Hessian over the cells not on the grid edge (all cells if none)."""
    use = [o for o in optima if not o.edge] or list(optima)
    h = np.median([o.bowl.hessian for o in use], axis=0)
    if np.all(np.isfinite(h)) and np.any(np.linalg.eigvalsh(h) <= 0):
        h = np.diag(np.diag(h))
    return h


def _jsonable(frame: pd.DataFrame) -> dict:
    return {c: [None if isinstance(v, float) and not np.isfinite(v) else v for v in frame[c].tolist()]
            for c in frame.columns}

"""Continual pre-training (CPT) law: old-domain and new-domain loss across a data switch.

Wang, Tissue, Wang, Li, Zeng, "Learning Dynamics in Continual Pre-Training for Large Language
Models" (ICML 2025, arXiv:2505.07796), Eq. 4, built on the momentum (annealing) law of Tissue et
al. 2024 (arXiv:2408.11029)::

    L(t) = L0 + A*(S1pt + S1cpt)^(-alpha) - C1*S2pt - C2*S2cpt + B*(1 - (1 + E*S1cpt)^(-beta))

* Steps are 0-based optimizer steps; the loss logged at step t follows the update of step t, so
  S1(t) = sum_{s<=t} eta_s (absolute LR, e.g. 1000 steps at 3e-3 give S1 = 3).
* The switch step t0 is the first step trained on the new data. S1pt = S1(t0 - 1) and
  S1cpt(t) = S1(t) - S1pt; before the switch S1pt = S1(t), S1cpt = 0, so the same law also
  describes the pre-training phase.
* S2 is the annealing area with momentum lambda (0.999): m_t = lambda*m_{t-1} + (eta_{t-1} - eta_t),
  S2(t) = sum_{s<=t} m_s; S2pt = S2(t0 - 1), S2cpt(t) = S2(t) - S2pt (momentum carried over the
  switch counts to the CPT phase). A re-warm makes S2cpt negative: the loss bump of re-warming.
  With C1 = C2 and B = 0 the law is exactly the momentum law over the joined schedule.
* The last term is the distribution shift: B > 0 for the old (pre-training) domain (forgetting),
  B < 0 for the new (CPT) domain (adaptation). Fit each domain's validation loss separately
  (``domain="pt"`` or ``"cpt"``).

Extensions (``replay=True``, Eq. 8; ``size=True``, Eq. 7), with r = replay fraction of old data
in the CPT batches and N = parameter count::

    -C2*S2cpt*exp(a1*r)              (replay changes the annealing benefit)
    shift * (1 - exp(-a2*(1 - r)))   (old domain: no forgetting at r = 1)
    shift * (exp(a2*(1 - r)) - 1)    (new domain: no adaptation at r = 1)
    -C1*S2pt*N^g1 - C2*S2cpt*N^g2 + F*N^(-g3)

Two more lrplan options (not from the paper), motivated by the 0.1M-parameter runs of
``benchmarks/cpt_predict.py``, where the old-domain loss after the switch is nearly a function of
S1cpt alone (the three re-warm schedules collapse onto one curve) and keeps rising without
saturating:

* ``anneal_cpt=False`` leaves out -C2*S2cpt: the continual phase's annealing (its re-decay)
  sharpens the model on the *new* data and does not lower the old-domain loss; the re-warm bump
  is then carried by the shift term on the LR-area clock. Meant for the old domain without replay.
* ``shift_form="boxcox"`` writes the shift term as B*(1 - (1 + E*tau)^(-beta))/beta with beta in
  [-2, 3]: beta > 0 is the paper's saturating power (its B is this B/beta), beta -> 0 the log
  B*ln(1 + E*tau) (the paper's form reaches it only as B -> inf, beta -> 0), beta < 0 a growing
  power: one family for saturating and not-yet-saturating forgetting.

``transient=True`` (lrplan option) adds D*exp(-S1/s0), S1 = S1pt + S1cpt, to both domains: the first
rapid drop of pre-training (on the byte-level runs of ``benchmarks/cpt_predict.py``, 5.4 -> 3.0 nats in
~40 steps, then a short plateau), which the power law A*S1^(-alpha) cannot follow; without it the fit
bends alpha and L0 to the first hundred steps. s0 is in LR-area units (fitted; starts at small
quantiles of the pre-switch S1) and at most a tenth of the LR area before the switch, so the term has
decayed to e^-10 of D by the switch and does not touch the continual phase.

The upper bound of L0 depends on the domain: on the old domain (B > 0) the loss stays above L0 and
L0 <= min(loss); on the new domain the adaptation term (B < 0) takes the loss below L0 (the paper's
Knowledge-Pile fit: L0 3.024, B -0.666), so L0 is only bounded by max(loss).

``replay="hyperbolic"`` (an lrplan option, not from the paper) replaces the shift factor by
(1 - r)/(1 + a2*r) for both domains (zero at r = 1, steep near r = 0 for large a2: the
"1 % replay removes most of the forgetting" shape of Ibrahim et al. 2024, with the (1 + B*p)
structure of Bethune et al. 2025); Eq. 8's exponential factor is nearly linear in r for small r.

Fitting (paper App. C): Huber (delta 1e-3) on log loss, bounded, best of a start grid. The start
grid is found by variable projection: for each value of the non-linear parameters on a grid the
linear ones (L0, A, C1, C2, B, F) are solved by least squares, the best few seeds are refined.

Uncertainty (lrplan): :meth:`CPTLaw.predict_band` gives pred * (1 +- z*sqrt(sd_boot^2 + sd_model^2))
after the switch (sd_boot only before it, where the fit is in-sample on the shared pre-training):

* sd_boot, the parameter noise: ``n_boot`` refits on stratified block-bootstrap draws (every run
  kept, moving blocks of its evaluations resampled; each refit starts from the fit and keeps its
  momentum). Runs are not resampled as the loss laws' bootstrap does (:mod:`lrplan.laws.base`): a
  CPT fit has two or three continual schedules, and a draw with one of them twice leaves the
  schedule dependence unidentified.
* sd_model = max(sd_res, sd_loo): sd_res is the scatter of one evaluation about the law, the RMS
  relative residual of the fit after the switch (step-to-step fluctuation plus the misfit on the
  fitted schedules); sd_loo (``loo=True``) is the error on a continual schedule the fit has not
  seen: the law is refitted once per run with that run left out, and sd_loo is the RMS over those
  runs of the relative error of predicting the left-out continual phase. With two fit runs each of
  those refits sees a single continual schedule, so sd_loo overstates the error of the full fit:
  the band is then conservative, and narrows as more continual schedules are fitted.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from lrplan import _io, fitting
from lrplan.errors import ConfigError, FitError, LoadError, LrplanWarning
from lrplan.fitting import Param
from lrplan.forgetting._fit import r2_score, read_json, robust_fit

DOMAINS = ("pt", "cpt")
#: momentum values tried by ``CPTLaw(lam="fit")`` (0.999 is the paper's)
LAM_GRID = (0.95, 0.98, 0.99, 0.995, 0.999)


def annealing_areas(lr: np.ndarray, lam: float = 0.999, warmup: str = "include") -> tuple[np.ndarray, np.ndarray]:
    """Per-step S1(t) = sum_{s<=t} eta_s and S2(t) = sum_{s<=t} m_s (momentum law, Tissue et al.;
    the shared kernels of :mod:`lrplan.laws.kernels`).

    ``warmup="exclude"`` (lrplan option) leaves the LR increase of the initial warmup (steps 0..k
    while the LR rises) out of S2 (S1 keeps it): with lam = 0.999 the memory of S2 is ~1000 steps, so
    on a short run the warmup's negative "drops" otherwise count against the loss for the whole run.
    Later LR increases (a re-warm after the switch) always count.
    """
    from lrplan.laws.kernels import lr_area, momentum_s2

    lr = np.asarray(lr, dtype=np.float64)
    if warmup == "exclude":
        rise = np.flatnonzero(np.diff(lr) <= 0)
        k = int(rise[0]) if rise.size else lr.size - 1  # last step of the initial rise
        lr2 = lr.copy()
        lr2[:k] = lr[k]
        return lr_area(lr), momentum_s2(lr2, lam)
    return lr_area(lr), momentum_s2(lr, lam)


@dataclass
class ContinualRun:
    """One training run with a data switch, as the CPT law sees it.

    Attributes:
        lr: absolute LR of every step 0..T-1 (pre-training followed by continual training).
        switch: first step trained on the new data (0 < switch < T).
        steps: steps at which ``loss`` was evaluated (0-based, < T).
        loss: validation loss in nats on one domain at those steps (empty for prediction only).
        replay: fraction r in [0, 1] of old-domain data in the batches after the switch.
        params: model parameter count N (needed by the size extension).
        name: label for reports.
    """

    lr: np.ndarray
    switch: int
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    replay: float = 0.0
    params: float | None = None
    name: str = "run"

    def __post_init__(self):
        self.lr = np.asarray(self.lr, dtype=np.float64).ravel()
        self.steps = np.asarray(self.steps, dtype=np.int64).ravel()
        self.loss = np.asarray(self.loss, dtype=np.float64).ravel()
        T = self.lr.size
        if T < 2:
            raise ConfigError(f"{self.name}: the LR array needs at least 2 steps")
        if not np.all(np.isfinite(self.lr)) or np.any(self.lr < 0):
            raise ConfigError(f"{self.name}: the LR array has NaN/inf or negative values")
        if int(self.switch) != self.switch or not 0 < self.switch < T:
            raise ConfigError(f"{self.name}: switch step {self.switch} is outside the run (must be in 1..{T - 1} for {T} steps)")
        self.switch = int(self.switch)
        if not 0.0 <= float(self.replay) <= 1.0 or not np.isfinite(self.replay):
            raise ConfigError(f"{self.name}: replay fraction {self.replay} is outside [0, 1]")
        self.replay = float(self.replay)
        if self.loss.size and self.loss.size != self.steps.size:
            raise ConfigError(f"{self.name}: {self.steps.size} steps but {self.loss.size} loss values")
        if self.steps.size and (self.steps.min() < 0 or self.steps.max() >= T):
            raise ConfigError(f"{self.name}: evaluation steps must lie in 0..{T - 1}")
        if self.loss.size and (not np.all(np.isfinite(self.loss)) or np.any(self.loss <= 0)):
            raise ConfigError(f"{self.name}: loss values must be finite and > 0 nats")
        if self.params is not None and not self.params > 0:
            raise ConfigError(f"{self.name}: params (model size N) must be > 0")

    def select(self, keep) -> "ContinualRun":
        """This run with only the evaluations where ``keep`` (a boolean mask over ``steps``) holds."""
        return replace(self, steps=self.steps[keep], loss=self.loss[keep])

    def areas(self, steps=None, lam: float = 0.999, warmup: str = "include") -> dict[str, np.ndarray]:
        """S1pt, S1cpt, S2pt, S2cpt (and Ncpt = steps trained on the new data, counting the
        switch step) at ``steps`` (default: the evaluation steps); ``warmup`` as in
        :func:`annealing_areas`."""
        steps = self.steps if steps is None else np.asarray(steps, dtype=np.int64)
        s1, s2 = annealing_areas(self.lr, lam, warmup)
        t0 = self.switch
        after = steps >= t0
        s1pt = np.where(after, s1[t0 - 1], s1[steps])
        s2pt = np.where(after, s2[t0 - 1], s2[steps])
        return {"S1pt": s1pt, "S1cpt": s1[steps] - s1pt, "S2pt": s2pt, "S2cpt": s2[steps] - s2pt,
                "Ncpt": np.where(after, steps - t0 + 1, 0).astype(np.float64)}


def _nonlinear_names(replay: bool, size: bool, transient: bool = False) -> list[str]:
    return (["alpha", "E", "beta"] + (["a1", "a2"] if replay else []) + (["g1", "g2", "g3"] if size else [])
            + (["s0"] if transient else []))


def _linear_names(size: bool, anneal_cpt: bool = True, transient: bool = False) -> list[str]:
    return (["L0", "A", "C1"] + (["C2"] if anneal_cpt else []) + ["B"] + (["F"] if size else [])
            + (["D"] if transient else []))


def power_shift(u: np.ndarray, beta: float) -> np.ndarray:
    """(1 - exp(-beta*u))/beta for u = ln(1 + E*tau): the ``shift_form="boxcox"`` column
    (u itself at beta = 0)."""
    return u if abs(beta) < 1e-9 else -np.expm1(-beta * u) / beta


class CPTLaw:
    """Continual pre-training law for one domain's validation loss (see module docstring).

    Args:
        domain: ``"pt"`` (old data: forgetting, B > 0 expected) or ``"cpt"`` (new data, B < 0).
        replay: fit the replay-ratio extension (needs runs with at least two replay fractions):
            ``True`` or ``"exp"`` (Eq. 8), ``"hyperbolic"`` (see module docstring), ``False``.
        size: fit the model-size extension (needs runs with ``params`` of at least two sizes).
        lam: momentum of the annealing area (0.999 as in the paper), or (lrplan option) ``"fit"``
            or a sequence of candidates: chosen from :data:`LAM_GRID` (or the candidates) by the
            training objective, as the loss-laws guide allows
            for runs much shorter than the ~1/(1 - lam) = 1000-step memory of 0.999.
        warmup: ``"include"`` (the paper: the initial warmup's LR increase enters S2) or
            ``"exclude"`` (lrplan option, see :func:`annealing_areas`).
        delta: Huber delta on log loss.
        skip: steps right after the switch left out of the fit (stability gap / re-warm transient).
        shift_clock: clock of the distribution-shift term: ``"lr_area"`` (S1cpt, the paper) or
            ``"steps"`` (steps since the switch; E then is per step, as in the paper's constant-LR
            fits). The benchmarks compare both.
        shift_form: ``"saturating"`` (the paper's B*(1 - (1 + E*tau)^(-beta)), beta > 0) or
            ``"boxcox"`` (lrplan option: B*(1 - (1 + E*tau)^(-beta))/beta, beta in [-2, 3], the log
            at beta = 0; see the module docstring).
        anneal_cpt: keep the continual annealing term -C2*S2cpt (the paper) or leave it out
            (``False``, lrplan option for the old domain; see the module docstring).
        transient: add the early-training transient D*exp(-S1/s0) (lrplan option; see the module
            docstring). For fits that include the first few hundred steps of pre-training.
        n_boot: bootstrap refits for :meth:`predict_band` (0 = none; module docstring).
        loo: leave-one-run-out refits (each run left out in turn): the error on a left-out continual
            schedule enters the band (module docstring); needs two or more runs.
        seed: random seed of the bootstrap.

    Fitted attributes: ``params_`` (dict, absolute-LR units), ``lam_`` (the momentum used),
    ``r2_`` (on loss), ``huber_`` (mean Huber on log loss), ``n_points_``, ``n_runs_``, ``boot_``
    (bootstrap parameter sets), ``res_rel_sd_`` (RMS relative residual after the switch), ``loo_``
    (per left-out run: ``held_out``, ``rel_rms`` and ``final_rel`` of its continual phase).

    >>> from lrplan.schedules import parse
    >>> lr = parse("constant:peak=3e-3,steps=400 + cosine:peak=3e-3,floor=3e-4,warmup=20,steps=400").array()
    >>> run = ContinualRun(lr, switch=400, steps=np.arange(50, 800, 10))
    >>> law = CPTLaw("pt")
    >>> law.params_ = dict(L0=1.5, A=0.5, alpha=0.5, C1=0.3, C2=0.3, B=0.3, E=30.0, beta=0.2)
    >>> bool(law.predict(run)[-1] > law.predict(run)[30])  # loss on the old domain after the switch
    True
    """

    def __init__(self, domain: str = "pt", replay: bool = False, size: bool = False, lam: float | str = 0.999,
                 delta: float = 1e-3, skip: int = 0, shift_clock: str = "lr_area", warmup: str = "include",
                 shift_form: str = "saturating", anneal_cpt: bool = True, transient: bool = False,
                 n_boot: int = 0, loo: bool = False, seed: int = 0):
        if domain not in DOMAINS:
            raise ConfigError(f"domain: must be 'pt' (old data) or 'cpt' (new data), got {domain!r}")
        grid = LAM_GRID if lam == "fit" else tuple(lam) if isinstance(lam, (tuple, list)) else (lam,)
        if not grid or not all(isinstance(v, (int, float)) and 0.0 < v < 1.0 for v in grid):
            raise ConfigError(f"lam: momentum must be in (0, 1), a sequence of such values or 'fit', got {lam!r}")
        self._lam_grid = tuple(float(v) for v in grid)
        if warmup not in ("include", "exclude"):
            raise ConfigError(f"warmup: must be 'include' or 'exclude', got {warmup!r}")
        self.warmup = warmup
        if replay not in (False, True, "exp", "hyperbolic"):
            raise ConfigError(f"replay: must be False, True/'exp' or 'hyperbolic', got {replay!r}")
        self.replay_form = "hyperbolic" if replay == "hyperbolic" else "exp"
        if shift_clock not in ("lr_area", "steps"):
            raise ConfigError(f"shift_clock: must be 'lr_area' or 'steps', got {shift_clock!r}")
        self.domain, self.replay, self.size, self.delta, self.skip = domain, bool(replay), bool(size), float(delta), int(skip)
        self.lam = lam if lam == "fit" else tuple(self._lam_grid) if isinstance(lam, (tuple, list)) else float(lam)
        self.shift_clock = shift_clock
        self._clock = "S1cpt" if shift_clock == "lr_area" else "Ncpt"
        if shift_form not in ("saturating", "boxcox"):
            raise ConfigError(f"shift_form: must be 'saturating' or 'boxcox', got {shift_form!r}")
        if anneal_cpt not in (True, False):
            raise ConfigError(f"anneal_cpt: must be True or False, got {anneal_cpt!r}")
        if self.replay and not anneal_cpt:
            raise ConfigError("anneal_cpt=False leaves out the C2*S2cpt term that the replay extension's a1 scales")
        if self.size and not anneal_cpt:
            raise ConfigError("anneal_cpt=False leaves out the C2*S2cpt term that the size extension's g2 scales "
                              "(g2 could not be fitted)")
        if transient not in (True, False):
            raise ConfigError(f"transient: must be True or False, got {transient!r}")
        self.shift_form, self.anneal_cpt, self.transient = shift_form, bool(anneal_cpt), bool(transient)
        if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 0:
            raise ConfigError(f"n_boot: bootstrap refits must be a whole number >= 0, got {n_boot!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ConfigError(f"seed: must be a whole number, got {seed!r}")
        self.n_boot, self.loo, self.seed = int(n_boot), bool(loo), int(seed)
        #: bootstrap parameter sets and leave-one-run-out records (empty until fitted with n_boot / loo)
        self.boot_: list[dict[str, float]] = []
        self.loo_: list[dict] = []
        self._lin = _linear_names(self.size, self.anneal_cpt, self.transient)
        self._nln = _nonlinear_names(self.replay, self.size, self.transient)

    # -- model -------------------------------------------------------------------
    def _columns(self, ar: dict, r: np.ndarray, N: np.ndarray, nl: dict) -> dict[str, np.ndarray]:
        """Columns of the linear parameters for given non-linear parameters."""
        s1 = ar["S1pt"] + ar["S1cpt"]
        with np.errstate(all="ignore"):
            if self.shift_form == "boxcox":
                shift = power_shift(np.log1p(nl["E"] * ar[self._clock]), nl["beta"])
            else:
                shift = 1.0 - np.power(1.0 + nl["E"] * ar[self._clock], -nl["beta"])
            c2 = -ar["S2cpt"]
            c1 = -ar["S2pt"]
            if self.replay:
                c2 = c2 * np.exp(nl["a1"] * r)
                if self.replay_form == "hyperbolic":
                    shift = shift * (1.0 - r) / (1.0 + nl["a2"] * r)
                elif self.domain == "pt":
                    shift = shift * (1.0 - np.exp(-nl["a2"] * (1.0 - r)))
                else:
                    shift = shift * (np.exp(nl["a2"] * (1.0 - r)) - 1.0)
            cols = {"L0": np.ones_like(s1), "A": np.power(s1, -nl["alpha"]), "C1": c1, "C2": c2, "B": shift}
            if self.size:
                cols["C1"] = c1 * np.power(N, nl["g1"])
                cols["C2"] = c2 * np.power(N, nl["g2"])
                cols["F"] = np.power(N, -nl["g3"])
            if not self.anneal_cpt:
                del cols["C2"]
            if self.transient:
                cols["D"] = np.exp(-s1 / nl["s0"])
        return cols

    def _stack(self, runs: Sequence[ContinualRun], use_loss: bool):
        ars, rs, Ns, ys = [], [], [], []
        for run in runs:
            steps, loss = run.steps, run.loss
            s1 = np.cumsum(run.lr)[steps]
            keep = s1 > 0
            if use_loss and self.skip:
                keep &= ~((steps >= run.switch) & (steps < run.switch + self.skip))
            ar = run.areas(steps[keep], self._lam, self.warmup)
            ars.append(ar)
            rs.append(np.full(int(keep.sum()), run.replay))
            if self.size and run.params is None:
                raise ConfigError(f"{run.name}: the size extension needs params (model size N) for every run")
            Ns.append(np.full(int(keep.sum()), run.params if run.params is not None else 1.0))
            ys.append(loss[keep] if use_loss else np.zeros(int(keep.sum())))
        ar = {k: np.concatenate([a[k] for a in ars]) for k in ars[0]}
        self._sizes = [y.size for y in ys]
        return ar, np.concatenate(rs), np.concatenate(Ns), np.concatenate(ys)

    def _eval(self, ar, r, N, params) -> np.ndarray:
        cols = self._columns(ar, r, N, params)
        return sum(params[k] * cols[k] for k in cols)

    @property
    def _lam(self) -> float:
        return getattr(self, "lam_", None) or (self.lam if isinstance(self.lam, float) else 0.999)

    # -- fit / predict -------------------------------------------------------------
    def fit(self, runs: Sequence[ContinualRun]) -> "CPTLaw":
        """Fit the law to the evaluation losses of ``runs`` (all on this law's domain), then the
        bootstrap and leave-one-run-out refits when asked for (``n_boot``, ``loo``)."""
        runs = list(runs)
        self._fit_point(runs)
        self.boot_ = self._bootstrap(runs) if self.n_boot else []
        self.loo_ = self._leave_one_out(runs) if self.loo else []
        return self

    def _one_momentum(self, lam: float) -> "CPTLaw":
        """An unfitted copy with the same options, the momentum ``lam`` and no refits."""
        law = copy.copy(self)
        law.lam, law._lam_grid, law.n_boot, law.loo = lam, (lam,), 0, False
        return law

    def _fit_point(self, runs: list[ContinualRun]) -> None:
        if len(self._lam_grid) > 1:  # best momentum of the grid by the training objective
            best = None
            for lam in self._lam_grid:
                law = self._one_momentum(lam)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    law._fit_point(runs)
                if best is None or law.huber_ < best[0].huber_:
                    best = (law, caught)
            law, caught = best
            for w in caught:
                warnings.warn(w.message, stacklevel=3)
            for k in ("params_", "fit_warnings_", "r2_", "huber_", "n_points_", "n_runs_", "lam_", "res_rel_sd_"):
                setattr(self, k, getattr(law, k))
            return
        self.lam_ = self._lam_grid[0]
        if not runs:
            raise FitError("cpt fit: no runs given")
        for run in runs:
            if run.loss.size == 0:
                raise FitError(f"cpt fit: run {run.name!r} has no loss values")
            if not np.any(run.steps >= run.switch):
                raise FitError(f"cpt fit: run {run.name!r} has no evaluation after its switch step {run.switch}")
        if self.replay and len({r.replay for r in runs}) < 2:
            raise FitError("cpt fit: the replay extension needs runs with at least two different replay fractions")
        if self.size and len({r.params for r in runs}) < 2:
            raise FitError("cpt fit: the size extension needs runs of at least two model sizes (params)")
        ar, r, N, y = self._stack(runs, use_loss=True)
        lin, nln = self._lin, self._nln
        if y.size < len(lin) + len(nln) + 2:
            raise FitError(f"cpt fit: {y.size} usable points for {len(lin) + len(nln)} parameters")
        seeds = self._seeds(ar, r, N, y)
        names, params, model = self._problem(ar, r, N, y, seeds[0])
        res = robust_fit(model, params, y, [[sd[n] for n in names] for sd in seeds], delta=self.delta, log=True,
                         label=f"cpt law ({self.domain})")
        self.params_ = {k: float(v) for k, v in res.params.items()}
        self.fit_warnings_ = list(res.warnings)
        cost = res.cost
        pred = self._eval(ar, r, N, self.params_)
        after = ar["Ncpt"] > 0  # steps >= the switch
        self.res_rel_sd_ = float(np.sqrt(np.mean(((y - pred) / y)[after] ** 2))) if after.any() else 0.0
        self.r2_ = r2_score(y, pred)
        self.huber_ = float(cost / y.size)
        self.n_points_, self.n_runs_ = int(y.size), len(runs)
        B = self.params_["B"]
        if (self.domain == "pt" and B < 0) or (self.domain == "cpt" and B > 0):
            warnings.warn(LrplanWarning(
                f"cpt law ({self.domain}): fitted shift B = {B:.3g} has the unexpected sign "
                f"({'forgetting' if self.domain == 'pt' else 'adaptation'} expected); check the domain"), stacklevel=3)

    def _problem(self, ar, r, N, y, start: dict):
        """Parameter names, :class:`~lrplan.fitting.Param` list (``start`` as init, the bounds) and
        model function of a fit to the stacked data."""
        lo = {"L0": 1e-6, "A": 0.0, "alpha": 0.01, "E": 1e-6, "beta": -2.0 if self.shift_form == "boxcox" else 1e-3,
              "a1": -20.0, "a2": 1e-3,
              "g1": -2.0, "g2": -2.0, "g3": 0.0, "s0": 1e-6}
        hi = {"alpha": 3.0, "E": 1e9, "beta": 3.0, "a1": 20.0, "a2": 1e5 if self.replay_form == "hyperbolic" else 30.0, "g1": 2.0, "g2": 2.0, "g3": 2.0,
              "L0": self._l0_max(y), "s0": self._s0_max(ar) if self.transient else np.inf}
        names = self._lin + self._nln
        params = [Param(n, start[n], lo.get(n, -np.inf), hi.get(n, np.inf), log=n in ("E", "s0")) for n in names]

        def model(theta):
            with np.errstate(all="ignore"):
                return self._eval(ar, r, N, dict(zip(names, theta)))

        return names, params, model

    # -- uncertainty -----------------------------------------------------------------
    def _bootstrap(self, runs: list[ContinualRun]) -> list[dict[str, float]]:
        """``n_boot`` refits on stratified block-bootstrap draws of the evaluations (module
        docstring), each from the fitted parameters with the fitted momentum."""
        law = self._one_momentum(self.lam_)
        rng = np.random.default_rng(self.seed)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ar, r, N, y = law._stack(runs, use_loss=True)  # every run is in every (stratified) draw
            names, params, model = law._problem(ar, r, N, y, self.params_)
            start = [[self.params_[n] for n in names]]
            for _ in range(self.n_boot):
                _, w = fitting.bootstrap_weights(law._sizes, rng, curves=False)
                try:
                    res = fitting.fit(model, params, y, start, delta=self.delta, log=True, weights=w,
                                      max_nfev=100 * len(names), label="cpt law bootstrap")
                except FitError:
                    continue
                out.append({k: float(v) for k, v in res.params.items()})
        if len(out) < max(2, self.n_boot // 2):
            warnings.warn(LrplanWarning(f"cpt law ({self.domain}): only {len(out)} of {self.n_boot} bootstrap refits "
                                        "converged; the band's parameter noise is poorly estimated"), stacklevel=3)
        return out

    def _leave_one_out(self, runs: list[ContinualRun]) -> list[dict]:
        """Per run with continual evaluations: refit (same options and momentum) without that run,
        and score the prediction of its continual phase (relative error, (loss - pred) / loss)."""
        held = [i for i, run in enumerate(runs) if np.any(run.steps >= run.switch)]
        if len(held) < 2:
            warnings.warn(LrplanWarning(f"cpt law ({self.domain}): leave-one-run-out needs two or more runs with "
                                        "evaluations after the switch; the band has no error for an unseen schedule"),
                          stacklevel=3)
            return []
        out = []
        for i in held:
            run = runs[i]
            rest = [runs[j] for j in range(len(runs)) if j != i]
            law = self._one_momentum(self.lam_)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    law._fit_point(rest)
            except FitError:
                continue
            after = run.select(run.steps >= run.switch)
            rel = (after.loss - law.predict(after)) / after.loss
            out.append({"held_out": run.name, "rel_rms": float(np.sqrt(np.nanmean(rel ** 2))),
                        "final_rel": float(rel[-1]), "params": dict(law.params_)})
        return out

    def model_rel_sd(self) -> float:
        """sd_model of the band after the switch: max(sd_res, sd_loo) (module docstring)."""
        loo = float(np.sqrt(np.mean([d["rel_rms"] ** 2 for d in self.loo_]))) if self.loo_ else 0.0
        return max(getattr(self, "res_rel_sd_", 0.0), loo)

    def predict_band(self, run: ContinualRun, steps=None, level: float = 0.9):
        """``(loss, lo, hi)`` in nats at ``steps`` (default: the run's evaluation steps): the
        prediction and a ``level`` band, pred * (1 +- z*sqrt(sd_boot^2 + sd_model^2)), sd_model after
        the switch only (module docstring). A law fitted without bootstrap refits has sd_boot = 0."""
        z = fitting.band_z(level)
        steps, ar, r, N = self._inputs(run, steps)
        pred = self._predict(ar, r, N)
        sd = np.zeros_like(pred)
        if len(self.boot_) > 1:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # steps with S1 = 0 predict NaN
                sims = np.array([self._eval(ar, r, N, p) for p in self.boot_])
                sd = np.nanstd(sims / pred, axis=0, ddof=1)
        tot = np.sqrt(sd ** 2 + np.where(steps >= run.switch, self.model_rel_sd(), 0.0) ** 2)
        return pred, pred * (1 - z * tot), pred * (1 + z * tot)

    def _l0_max(self, y: np.ndarray) -> float:
        """Upper bound of L0: min(loss) on the old domain, max(loss) on the new one (module docstring)."""
        return float(y.min() if self.domain == "pt" else y.max())

    @staticmethod
    def _s0_max(ar: dict) -> float:
        """Upper bound of the transient's scale s0: a tenth of the smallest pre-training LR area at a
        switch, so the term has decayed to e^-10 of D by the switch (module docstring)."""
        after = ar["S1cpt"] > 0
        return max(0.1 * float(ar["S1pt"][after].min() if after.any() else ar["S1pt"].max()), 1e-5)

    def _seeds(self, ar, r, N, y, keep: int = 4) -> list[dict]:
        """Best few (linear + non-linear) parameter sets from a variable-projection grid search."""
        s1c = ar[self._clock][ar[self._clock] > 0]
        e0 = 1.0 / float(np.median(s1c)) if s1c.size else 1.0
        axes = {"alpha": [0.2, 0.35, 0.5, 0.7, 1.0], "E": list(e0 * np.array([0.03, 0.3, 3.0, 30.0, 300.0])),
                "beta": [-0.3, 0.1, 0.3, 0.8] if self.shift_form == "boxcox" else [0.1, 0.3, 0.8], "a1": [0.0],
                "a2": [3.0, 30.0, 300.0] if self.replay_form == "hyperbolic" else [0.5, 2.0, 6.0], "g1": [0.0], "g2": [0.0], "g3": [0.1]}
        if self.transient:  # a log grid from small quantiles of the pre-switch S1 up to the s0 bound
            s1pre = ar["S1pt"][ar["S1cpt"] == 0]
            s1pre, s0_max = (s1pre if s1pre.size else ar["S1pt"]), self._s0_max(ar)
            axes["s0"] = list(np.geomspace(min(float(np.quantile(s1pre, 0.02)), s0_max / 10),
                                           min(float(np.quantile(s1pre, 0.3)), s0_max), 6))
        nln, lin = self._nln, self._lin
        w = 1.0 / y  # least squares on loss / y ~ log loss
        scored = []
        for combo in np.array(np.meshgrid(*[axes[n] for n in nln], indexing="ij")).reshape(len(nln), -1).T:
            nl = dict(zip(nln, combo))
            cols = self._columns(ar, r, N, nl)
            X = np.column_stack([cols[k] for k in lin])
            if not np.all(np.isfinite(X)):
                continue
            coef, *_ = np.linalg.lstsq(X * w[:, None], y * w, rcond=None)
            rss = float(np.sum(((X @ coef - y) * w) ** 2))
            p = dict(zip(lin, coef), **nl)
            p["L0"] = float(np.clip(p["L0"], 1e-3, self._l0_max(y) * 0.999))
            p["A"] = float(max(p["A"], 1e-6))
            scored.append((rss, p))
        if not scored:
            raise FitError(f"cpt law ({self.domain}): no finite start (check the LR arrays)")
        scored.sort(key=lambda t: t[0])
        return [p for _, p in scored[:keep]]

    def _check(self):
        if not hasattr(self, "params_"):
            raise FitError("cpt law is not fitted yet; call fit() or load a fitted law")

    def _inputs(self, run: ContinualRun, steps=None, need_size: bool = True):
        """``(steps, areas, replay, N)`` of ``run`` at ``steps`` (default: its evaluation steps);
        ``need_size``: a size-extended law needs the run's parameter count."""
        self._check()
        steps = run.steps if steps is None else np.asarray(steps, dtype=np.int64)
        if steps.size and (steps.min() < 0 or steps.max() >= run.lr.size):
            raise ConfigError(f"{run.name}: prediction steps must lie in 0..{run.lr.size - 1}")
        if need_size and self.size and run.params is None:
            raise ConfigError(f"{run.name}: this law has the size extension; give params (model size N)")
        ar = run.areas(steps, self._lam, self.warmup)
        return (steps, ar, np.full(steps.size, run.replay),
                np.full(steps.size, run.params if run.params is not None else 1.0))

    def _predict(self, ar, r, N) -> np.ndarray:
        """The fitted law on prepared inputs; NaN where S1 = 0."""
        return np.where(ar["S1pt"] + ar["S1cpt"] > 0, self._eval(ar, r, N, self.params_), np.nan)

    def predict(self, run: ContinualRun, steps=None) -> np.ndarray:
        """Predicted loss (nats) of this law's domain for ``run`` at ``steps`` (default: the
        run's evaluation steps; steps with S1 = 0, e.g. step 0 of a warmup from 0, give NaN)."""
        return self._predict(*self._inputs(run, steps)[1:])

    def shift(self, run: ContinualRun, steps=None) -> np.ndarray:
        """The distribution-shift term alone (nats): forgetting (> 0) or adaptation (< 0)."""
        _, ar, r, N = self._inputs(run, steps, need_size=False)  # the shift term does not depend on N
        p = {**self.params_, **{k: 0.0 for k in self._lin}, "B": self.params_["B"]}
        return self._columns(ar, r, N, p)["B"] * self.params_["B"]

    # -- persistence -------------------------------------------------------------
    def to_dict(self) -> dict:
        self._check()
        replay = self.replay_form if self.replay else False
        return {"law": "cpt", "domain": self.domain, "replay": replay, "size": self.size, "lam": self._lam, "warmup": self.warmup,
                "delta": self.delta, "skip": self.skip, "shift_clock": self.shift_clock, "shift_form": self.shift_form,
                "anneal_cpt": self.anneal_cpt, "transient": self.transient, "units": {"lr": "absolute", "S1": "sum of absolute LR over steps"},
                "n_boot": self.n_boot, "loo": self.loo, "seed": self.seed,
                "params": self.params_,
                "metrics": {"r2": self.r2_, "huber": self.huber_, "n_points": self.n_points_, "n_runs": self.n_runs_},
                "uncertainty": {"bootstrap": self.boot_, "residual_rel_sd": getattr(self, "res_rel_sd_", 0.0),
                                "leave_one_out": self.loo_}}

    @classmethod
    def from_dict(cls, d: dict) -> "CPTLaw":
        if d.get("law") != "cpt" or "params" not in d:
            raise LoadError("cpt law JSON: missing 'law': 'cpt' or 'params'")
        law = cls(d.get("domain", "pt"), d.get("replay", False), d.get("size", False), d.get("lam", 0.999),
                  d.get("delta", 1e-3), d.get("skip", 0), d.get("shift_clock", "lr_area"), d.get("warmup", "include"),
                  d.get("shift_form", "saturating"), d.get("anneal_cpt", True), d.get("transient", False),
                  n_boot=d.get("n_boot", 0), loo=d.get("loo", False), seed=d.get("seed", 0))
        need = set(law._lin + law._nln)
        missing = need - set(d["params"])
        if missing:
            raise LoadError(f"cpt law JSON: params missing {', '.join(sorted(missing))}")
        law.params_ = {k: float(v) for k, v in d["params"].items()}
        m = d.get("metrics", {})
        law.r2_, law.huber_ = m.get("r2", float("nan")), m.get("huber", float("nan"))
        law.n_points_, law.n_runs_ = m.get("n_points", 0), m.get("n_runs", 0)
        unc = d.get("uncertainty") if isinstance(d.get("uncertainty"), dict) else {}
        boot, loo = unc.get("bootstrap") or [], unc.get("leave_one_out") or []
        if not all(isinstance(p, dict) and need <= set(p) for p in boot) or not all(
                isinstance(x, dict) and isinstance(x.get("rel_rms"), (int, float)) for x in loo):
            raise LoadError("cpt law JSON: malformed 'uncertainty' (bootstrap parameter sets or leave-one-out records)")
        law.boot_ = [{k: float(v) for k, v in p.items()} for p in boot]
        sd = unc.get("residual_rel_sd", 0.0)
        if not isinstance(sd, (int, float)) or not np.isfinite(sd) or sd < 0:
            raise LoadError(f"cpt law JSON: 'residual_rel_sd' must be a number >= 0, got {sd!r}")
        law.res_rel_sd_ = float(sd)
        law.loo_ = list(loo)
        return law

    def save(self, path) -> Path:
        return _io.write_json(path, self.to_dict())

    @classmethod
    def load(cls, path) -> "CPTLaw":
        return cls.from_dict(read_json(path, "cpt law"))

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"CPTLaw({self.domain!r}, unfitted)"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"CPTLaw({self.domain!r}, {ps}, R2={self.r2_:.4f})"

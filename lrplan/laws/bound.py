"""Convex-bound law (Schaipp, Hägele, Taylor, Simsekli, Bach 2025, "The Surprising Agreement
Between Convex Optimization Theory and Learning-Rate Scheduling for Large Model Training",
ICML 2025, arXiv:2501.18965; bound from Theorem 10 of arXiv:2310.07831, code
github.com/fabian-sp/lr-scheduling, MIT).

Last-iterate bound of SGD on a convex Lipschitz problem after steps 0..s (0-based) with LR eta:

    bound(s) = D^2 / (2 S_s) + G^2 * Q(s)
    Q(s) = E_s / (2 S_s) + 1/2 * sum_{k=0..s-1} [eta_k / (S_s - S_k)] * [(E_s - E_{k-1}) / (S_s - S_{k-1})]

with S_j = sum_{i<=j} eta_i and E_j = sum_{i<=j} eta_i^2. The loss is mapped as
L(s) = L0 + M * bound(s) = L0 + a / S1(s) + b * Q(s) (a = M D^2 / 2, b = M G^2), i.e. the
constant-gradient-norm form of the authors' fit (their optional time-varying gradient-norm
profile G_t is not implemented). Units: eta absolute LR, s steps, L nats; a scales like LR,
b like 1/LR. Q(s) costs O(s) per step: predictions at more than ``MAX_PAIRS`` (step, k) pairs are
evaluated at evenly spread anchor steps and Q is linearly interpolated in between.
"""

from __future__ import annotations

import numpy as np

from lrplan import fitting
from lrplan.laws import kernels as K
from lrplan.laws.base import Law, floor_param, register

MAX_PAIRS = 20_000_000


def bound_q(lr, steps, chunk_pairs: int = 4_000_000) -> np.ndarray:
    """Q(s) of the module docstring at ``steps`` (same LR units as ``lr``)."""
    lr = np.asarray(lr, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.int64)
    S = np.cumsum(lr)
    E = np.cumsum(lr * lr)
    Sp = np.concatenate([[0.0], S[:-1]])
    Ep = np.concatenate([[0.0], E[:-1]])
    tiny = K.ETA_FLOOR * max(float(lr.max()), 1e-300)
    out = np.empty(steps.size)
    order = np.argsort(steps)
    i = 0
    while i < steps.size:  # batches of eval steps whose (step, k) grid fits in chunk_pairs
        smax = int(steps[order[i]]) + 1
        n = max(1, min(steps.size - i, chunk_pairs // max(int(steps[order[min(steps.size - 1, i + 1)]]) + 1, smax)))
        idx = order[i:i + n]
        s = steps[idx]
        k = np.arange(int(s.max()))
        Ss, Es = S[s][:, None], E[s][:, None]
        # in place on three (rows, k) buffers: eta_k (E_s - E_{k-1}) / ((S_s - S_k)(S_s - S_{k-1}))
        num = Es - Ep[k][None, :]
        num *= lr[k][None, :]
        den = Ss - S[k][None, :]
        np.maximum(den, tiny, out=den)
        den2 = Ss - Sp[k][None, :]
        np.maximum(den2, tiny, out=den2)
        den *= den2
        num /= den
        num *= k[None, :] < s[:, None]  # only k < s
        out[idx] = E[s] / (2 * np.maximum(S[s], tiny)) + 0.5 * num.sum(axis=1)
        i += n
    return out


def bound_q_any(lr, steps) -> np.ndarray:
    """:func:`bound_q`, interpolated from anchor steps when the exact cost exceeds ``MAX_PAIRS``."""
    steps = np.asarray(steps, dtype=np.int64)
    if steps.size == 0 or float(steps.size) * float(steps.max() + 1) / 2 <= MAX_PAIRS:
        return bound_q(lr, steps)
    n_anchor = max(16, int(2 * MAX_PAIRS / (steps.max() + 1)))
    anchors = np.unique(np.r_[np.linspace(steps.min(), steps.max(), n_anchor).astype(np.int64), steps.max()])
    return np.interp(steps, anchors, bound_q(lr, anchors))


@register
class BoundLaw(Law):
    name = "bound"
    param_names = ("L0", "a", "b")

    def _params(self, data):
        return [floor_param(data), fitting.Param("a", 10.0, 1e-9, 1e9, log=True),
                fitting.Param("b", 0.1, 1e-9, 1e9, log=True)]

    def _features(self, lr_norm, steps):
        return {"S1": np.maximum(np.cumsum(lr_norm)[steps], K.MIN_AREA), "Q": bound_q_any(lr_norm, steps)}

    def _eval(self, theta, f, grad=False):
        L0, a, b = theta
        pred = L0 + a / f["S1"] + b * f["Q"]
        if not grad:
            return pred, None
        return pred, np.column_stack([np.ones_like(pred), 1.0 / f["S1"], f["Q"]])

    def _starts(self, data, feats, params):
        y = np.concatenate([d.loss for d in data])
        X = np.column_stack([np.ones_like(y), np.concatenate([1 / f["S1"] for f in feats]), np.concatenate([f["Q"] for f in feats])])
        ymin = float(y.min())
        L0, a, b = fitting.profile_linear(X, y, 1.0 / y, lo=[0, 1e-9, 1e-9], hi=[ymin, np.inf, np.inf])
        return [np.array([min(L0, 0.999 * ymin), max(a, 1e-8), max(b, 1e-8)])]

    def _to_abs(self, theta, peak):
        L0, a, b = map(float, theta)
        return {"L0": L0, "a": a * peak, "b": b / peak}

    def _to_norm(self, p, peak):
        return np.array([p["L0"], p["a"] / peak, p["b"] * peak], dtype=float)

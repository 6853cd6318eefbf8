"""O(T) schedule features shared by the loss laws (and by forgetting/planning code).

All functions take the LR at every optimizer step 0..T-1 (``lr``, float64). Units follow the
input: pass absolute LR to get absolute areas, peak-normalised LR (``lr / peak``) to get areas in
"peak steps". The laws fit on peak-normalised LR.

* :func:`lr_area` -- S1(t) = sum_{tau<=t} eta_tau, the forward LR area, warmup included (the
  multi-power-law code's convention; Luo et al. 2025, arXiv:2503.12811).
* :func:`momentum_s2` -- the annealing area of the momentum / LR-annealing law (Tissue et al.
  2024, arXiv:2408.11029): m_i = lambda*m_{i-1} + (eta_{i-1} - eta_i), S2(t) = sum_{i<=t} m_i
  (optionally LR-weighted: sum m_i*eta_i^eps), computed with a first-order recursive filter; and
  its derivative in lambda (:func:`momentum_s2_dlam`).
* :func:`drop_terms` / :func:`mpl_drop` -- the multi-power-law loss-drop term

      LD(s) = sum_{k=1..s} (eta_{k-1} - eta_k) * (1 - (1 + C*eta_k^(-gamma)*S_k(s))^(-beta)),
      S_k(s) = sum_{tau=k..s} eta_tau,

  without the naive O(T^2) double sum. Only steps where the LR changes contribute (constant
  stretches collapse). :func:`drop_terms` builds, once per (schedule, evaluation steps), a flat list
  of (row, weight, log eta, area offset) terms; :func:`mpl_drop` evaluates LD (and its gradient in
  C, beta, gamma) on them, so a fit re-evaluates the law cheaply for every parameter vector.

  ``exact`` terms are the change points themselves. ``fast`` terms keep the last ``near`` change
  points before each evaluation step exact and merge older ones into blocks whose length is at
  most 1/``near`` of their distance to the evaluation step (a geometric far field: O(near*log T)
  terms per evaluation step). Positive and negative LR changes are merged separately; a merged
  block acts as one change point at its drop-weighted mean area offset and geometric-mean LR, which
  makes the error second order in the block's relative width (about 1e-7 nats at ``near=32`` on the
  bundled schedules; :func:`mpl_drop_exact` is the reference the tests compare against).
  With ``grid=g`` (long schedules sampled at few steps) the far-field blocks are aligned to
  multiples of g steps, so their moments come from a prefix table over T/g coarse blocks (built
  from per-block sums, no per-step table) and only O(rows * (near + 1) * g) near-field steps are
  gathered: a 1M-step cosine at 1,000 steps in ~0.04 s, within 1.5e-6 nats at near=6, g=16.
  :func:`mpl_drop_every_step` evaluates all T steps of long schedules by interpolating the
  smooth far field in the LR area over chunks of steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

#: LR values below this fraction of the largest LR are treated as this fraction in eta^(-gamma)
#: (a schedule that decays to exactly 0 would otherwise give 0 * inf).
ETA_FLOOR = 1e-12

#: smallest LR area (in peak-normalised units = steps at peak LR) the laws evaluate S1^(-alpha) at:
#: predictions inside the first step of warmup, where S1 -> 0, are held at one peak-LR step.
MIN_AREA = 1.0


def _as_lr(lr) -> np.ndarray:
    a = np.asarray(lr, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("the LR array is empty")
    return a


def lr_area(lr) -> np.ndarray:
    """S1(t) = sum_{tau=0..t} eta_tau for every step t (same units as ``lr`` times steps)."""
    return np.cumsum(_as_lr(lr))


def lr_drops(lr) -> np.ndarray:
    """d_t = eta_{t-1} - eta_t (d_0 = 0): positive where the LR decreases."""
    lr = _as_lr(lr)
    d = np.zeros_like(lr)
    d[1:] = lr[:-1] - lr[1:]
    return d


def momentum_m(lr, lam: float) -> np.ndarray:
    """The LR-annealing momentum m_i = lam*m_{i-1} + (eta_{i-1} - eta_i), m_0 = 0."""
    return lfilter([1.0], [1.0, -float(lam)], lr_drops(lr))


def momentum_s2(lr, lam: float = 0.999, eps: float = 0.0) -> np.ndarray:
    """Annealing area S2(t) = sum_{i<=t} m_i * eta_i^eps (eps = 0: the original law).

    Each LR drop Delta at step k adds Delta*(1 - lam^(t-k+1))/(1 - lam) to S2(t) (it ramps in with
    time constant 1/(1 - lam) steps). LR increases (warmup, re-warmup) are negative drops.
    """
    lr = _as_lr(lr)
    m = momentum_m(lr, lam)
    if eps:
        m = m * np.power(np.maximum(lr, 0.0), eps)
    return np.cumsum(m)


def momentum_s2_dlam(lr, lam: float = 0.999, eps: float = 0.0) -> np.ndarray:
    """d S2(t) / d lam (for fitting lambda with analytic gradients)."""
    lr = _as_lr(lr)
    m = momentum_m(lr, lam)
    prev = np.zeros_like(m)
    prev[1:] = m[:-1]
    q = lfilter([1.0], [1.0, -float(lam)], prev)  # q_i = m_{i-1} + lam*q_{i-1}
    if eps:
        q = q * np.power(np.maximum(lr, 0.0), eps)
    return np.cumsum(q)


# ----------------------------------------------------------------------------------------------
# multi-power-law loss drop
# ----------------------------------------------------------------------------------------------

@dataclass
class DropTerms:
    """Flat terms of the MPL loss-drop sum for fixed evaluation steps.

    LD[row] = sum over terms with that row of w * (1 - (1 + C*exp(-gamma*logeta)*(u[row] - v))^(-beta)).

    Attributes: ``row`` (int index into the evaluation steps), ``w`` (LR drop eta_{k-1} - eta_k,
    summed over a merged block), ``logeta`` (log eta_k, drop-weighted mean in a block), ``v``
    (S1(k-1), drop-weighted mean in a block), ``u`` (S1 at each evaluation step), ``n`` (rows).
    """

    row: np.ndarray
    w: np.ndarray
    logeta: np.ndarray
    v: np.ndarray
    u: np.ndarray
    n: int
    #: cache of :meth:`prepared`
    _prep: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def size(self) -> int:
        return int(self.w.size)

    def prepared(self):
        """(R, w, logeta, max(u[row] - v, 0)) with the terms sorted by row; R is the sparse
        (rows x terms) summation matrix. Cached: a fit evaluates the same terms many times."""
        if self._prep is None:
            from scipy.sparse import csr_matrix

            order = np.argsort(self.row, kind="stable")
            row = self.row[order]
            indptr = np.searchsorted(row, np.arange(self.n + 1))
            R = csr_matrix((np.ones(self.size), np.arange(self.size), indptr), shape=(self.n, self.size))
            D = np.maximum(self.u[row] - self.v[order], 0.0)
            self._prep = (R, self.w[order], self.logeta[order], D)
        return self._prep


def _check_steps(lr: np.ndarray, steps) -> np.ndarray:
    s = np.asarray(steps, dtype=np.int64).ravel()
    if s.size and (s.min() < 0 or s.max() >= lr.size):
        raise ValueError(f"evaluation steps must lie in 0..{lr.size - 1}")
    return s


def drop_terms(lr, steps, method: str = "auto", near: int = 32, max_exact: int = 2_000_000,
               grid: int = 1) -> DropTerms:
    """Build the loss-drop terms of schedule ``lr`` for evaluation ``steps``.

    ``method``: ``exact`` (every change point), ``fast`` (exact near field of ``near`` change
    points, merged geometric far field) or ``auto`` (exact when steps x change points <= ``max_exact``).
    ``grid`` > 1 (``fast`` only; for long schedules sampled at few steps): far-field blocks start
    and end on multiples of ``grid`` steps, so their moments come from a prefix table over
    T/``grid`` coarse blocks instead of every step, and the exact near field grows to the last
    ``near*grid`` to ``(near+1)*grid`` steps (see :func:`_fast_terms_grid`).
    """
    lr = _as_lr(lr)
    s = _check_steps(lr, steps)
    cum = np.cumsum(lr)
    d = lr_drops(lr)
    floor = ETA_FLOOR * max(float(lr.max()), 1e-300)
    logeta = np.log(np.maximum(lr, floor))
    cps = np.flatnonzero(d) if method in ("auto", "exact") else None  # change points k >= 1
    if method == "auto":
        method = "exact" if cps.size * s.size <= max_exact else "fast"
    if method == "exact":
        if cps.size == 0 or s.size == 0:
            e = np.empty(0)
            return DropTerms(np.empty(0, np.int64), e, e, e, cum[s], s.size)
        rows, idx = [], []
        chunk = max(1, max_exact // max(cps.size, 1))
        for a in range(0, s.size, chunk):
            ss = s[a:a + chunk]
            ok = cps[None, :] <= ss[:, None]
            r, j = np.nonzero(ok)
            rows.append(r + a)
            idx.append(cps[j])
        row = np.concatenate(rows)
        k = np.concatenate(idx)
        return DropTerms(row, d[k], logeta[k], cum[k - 1], cum[s], s.size)
    if method != "fast":
        raise ValueError(f"unknown method {method!r}; use exact, fast or auto")
    if grid > 1:
        return _fast_terms_grid(lr, s, cum, d, logeta, int(near), int(grid))
    return _fast_terms(lr, s, cum, d, logeta, int(near))


def _fast_terms_grid(lr, s, cum, d, logeta, near, g, bins=4):
    """``fast`` terms with far-field blocks aligned to a grid of ``g`` steps.

    Exact near field: k in [E_s, s] with E_s = g*floor((s - near*g + 1)/g). Band l >= 0 covers the
    coarse blocks [hi_{l+1}, hi_l) with hi_l = floor((s - near*g*2^l + 1)/g), merged into blocks of
    2^l coarse blocks, so a block is still at most 1/``near`` of its distance to s wide. Merged
    blocks are cut where the drop sign or LR bin (``bins`` per octave) of the (drop-weighted)
    coarse blocks changes; within one coarse block of ``g`` steps nothing is cut (a smooth schedule barely changes
    there; schedules with few change points take the ``exact`` path anyway).
    """
    T = lr.size
    nc = -(-T // g)
    nf = T // g * g  # whole coarse blocks; a last partial block is summed separately
    # coarse-block sums of (d, d*S1(k-1), d*log eta) without per-step temporaries:
    # d*S1(k-1) = d*S1(k) - d*eta_k
    sums = np.zeros((nc, 3))
    dv = d[:nf].reshape(-1, g)
    sums[:nf // g, 0] = dv.sum(1)
    sums[:nf // g, 1] = np.einsum("ij,ij->i", dv, cum[:nf].reshape(-1, g)) - np.einsum("ij,ij->i", dv, lr[:nf].reshape(-1, g))
    sums[:nf // g, 2] = np.einsum("ij,ij->i", dv, logeta[:nf].reshape(-1, g))
    if nf < T:
        dt = d[nf:]
        sums[-1] = dt.sum(), dt @ (cum[nf:] - lr[nf:]), dt @ logeta[nf:]
    Mc = np.zeros((nc + 1, 3))
    np.cumsum(sums, axis=0, out=Mc[1:])
    dc = Mc[1:, 0] - Mc[:-1, 0]
    nz = np.flatnonzero(dc)
    P = _Prefix(Mc, _run_starts(nz, (Mc[1:, 2] - Mc[:-1, 2])[nz] / dc[nz], np.sign(dc[nz]), bins))
    rows, ws, ls, vs = [], [], [], []
    E = (s - near * g + 1) // g * g
    k = s[:, None] - np.arange((near + 1) * g)[None, :]
    ok = (k >= np.maximum(E, 1)[:, None])
    kk = np.where(ok, k, 1)
    ok &= d[kk] != 0
    r = np.broadcast_to(np.arange(s.size)[:, None], k.shape)
    kk = kk[ok]
    rows.append(r[ok]); ws.append(d[kk]); ls.append(logeta[kk]); vs.append(cum[kk] - lr[kk])
    band = lambda h: (np.maximum((s - 2 * near * g * h + 1) // g, 0), np.maximum((s - near * g * h + 1) // g, 0))
    return _with_far_field(P, s, cum, near * g, band, (rows, ws, ls, vs))


def _with_far_field(P, s, cum, span, band, terms):
    """Append the merged far-field blocks of levels h = 1, 2, 4, ... while span*h < T to the
    near-field ``terms`` (lists rows, w, logeta, v); ``band(h)`` gives each row's [lo, hi) in units
    of the rows of ``P.M``. Returns the :class:`DropTerms`."""
    rows, ws, ls, vs = terms
    lvl = 0
    while span * (1 << lvl) < cum.size:
        h = 1 << lvl
        lo, hi = band(h)
        use = hi > lo
        if use.any():
            rr, w, v, le = _merged_blocks(P, lo[use], hi[use], h)
            rows.append(np.flatnonzero(use)[rr.astype(np.int64)]); ws.append(w); vs.append(v); ls.append(le)
        lvl += 1
    return DropTerms(np.concatenate(rows).astype(np.int64), np.concatenate(ws), np.concatenate(ls),
                     np.concatenate(vs), cum[s], s.size)


def _fast_terms(lr, s, cum, d, logeta, near):
    cumprev = np.concatenate([[0.0], cum[:-1]])  # S1(k-1)
    P = _Prefix.of_steps(d, cumprev, logeta)
    rows, ws, ls, vs = [], [], [], []
    # near field: k in (s - near, s], k >= 1, exact
    k = s[:, None] - np.arange(near)[None, :]
    ok = k >= 1
    kk = np.where(ok, k, 1)
    ok &= d[kk] != 0
    r = np.broadcast_to(np.arange(s.size)[:, None], k.shape)
    rows.append(r[ok]); ws.append(d[kk][ok]); ls.append(logeta[kk][ok]); vs.append(cumprev[kk][ok])
    # far field: band l covers k in (s - near*2^(l+1), s - near*2^l], in blocks of 2^l steps
    band = lambda h: (np.maximum(s - 2 * near * h + 1, 1), s - near * h + 1)
    return _with_far_field(P, s, cum, near, band, (rows, ws, ls, vs))


def mpl_drop(terms: DropTerms, C: float, beta: float, gamma: float, grad: bool = False):
    """LD at the evaluation rows of ``terms`` (same LR units as the terms were built with).

    With ``grad=True`` returns ``(LD, dLD/dC, dLD/dbeta, dLD/dgamma)``. Once ``terms.prepared()``
    has been called (by the first gradient evaluation, or by a fit up front), the per-term sums run
    as sparse (rows x terms) matrix-vector products on terms sorted by row, reused for every
    parameter vector of a fit; a one-off evaluation sums with ``bincount`` instead.
    """
    if terms.size == 0:
        z = np.zeros(terms.n)
        return (z, z, z, z) if grad else z
    if not grad and terms._prep is None:  # one-off evaluation (a prediction)
        x = np.exp(np.log(C) - gamma * terms.logeta)
        x *= np.maximum(terms.u[terms.row] - terms.v, 0.0)
        return np.bincount(terms.row, weights=terms.w * -np.expm1(-beta * np.log1p(x)), minlength=terms.n)
    R, w, le, D = terms.prepared()
    x = np.exp(np.log(C) - gamma * le)
    x *= D
    lg = np.log1p(x)
    wp = w * np.exp(-beta * lg)  # w * (1 + x)^(-beta)
    ld = R @ (w - wp)
    if not grad:
        return ld
    dxx = wp * beta * x / (1.0 + x)  # x * d/dx of w*(1 - (1+x)^-beta)
    return ld, R @ (dxx / C), R @ (wp * lg), -(R @ (dxx * le))


def mpl_drop_exact(lr, steps, C: float, beta: float, gamma: float) -> np.ndarray:
    """Reference: the literal double sum over all k = 1..s (O(len(steps) x T); tests only)."""
    lr = _as_lr(lr)
    s = _check_steps(lr, steps)
    cum = np.cumsum(lr)
    floor = ETA_FLOOR * max(float(lr.max()), 1e-300)
    out = np.zeros(s.size)
    for i, t in enumerate(s):
        k = np.arange(1, t + 1)
        Sk = cum[t] - cum[k - 1]
        g = 1.0 - (1.0 + C * np.maximum(lr[k], floor) ** (-gamma) * Sk) ** (-beta)
        out[i] = np.sum((lr[k - 1] - lr[k]) * g)
    return out


def mpl_loss(lr, steps, L0, A, alpha, B, C, beta, gamma, method: str = "auto") -> np.ndarray:
    """Multi-power-law loss (nats) at ``steps`` with parameters in the units of ``lr``.

    L(s) = L0 + A*S1(s)^(-alpha) - B*LD(s), S1 the cumulative LR incl. warmup (Luo et al. 2025).
    """
    lr = _as_lr(lr)
    steps = _check_steps(lr, np.arange(lr.size) if steps is None else steps)
    S1 = np.maximum(np.cumsum(lr)[steps], ETA_FLOOR * float(lr.max()))
    if method == "every" or (method == "auto" and steps.size == lr.size and lr.size > 200_000):
        if steps.size != lr.size:
            raise ValueError("method='every' needs steps = every step")
        ld = mpl_drop_every_step(lr, C, beta, gamma)
    else:
        ld = mpl_drop(drop_terms(lr, steps, method=method), C, beta, gamma)
    return L0 + A * S1 ** (-alpha) - B * ld


#: merged blocks never mix change points whose LR differs by more than 2^(1/OCTAVE_BINS)
OCTAVE_BINS = 16


class _Prefix:
    """Prefix sums over change points for O(1) merged-block moments (built once per schedule).

    ``cuts``: the change points where a new run of (drop sign, LR octave bin) starts; merged
    blocks are split there."""

    def __init__(self, M, cuts):
        self.M, self.cuts = M, cuts

    @classmethod
    def of_steps(cls, d, cumprev, logeta) -> "_Prefix":
        """The table over single steps (rows = change points k)."""
        T = d.size
        # one (T+1, 3) table (columns: drop, drop*S1(k-1), drop*log eta) so that a block's moments
        # come from two row gathers. Blocks never mix drop signs (see cuts), so the drop-weighted
        # means sum(drop*x)/sum(drop) are |drop|-weighted means.
        M = np.empty((T + 1, 3))
        M[0] = 0.0
        for j, x in enumerate((d, d * cumprev, d * logeta)):
            np.cumsum(x, out=M[1:, j])
        nz = np.flatnonzero(d)
        # smooth schedules change LR at every step, so skip the gathers then
        le, dz = (logeta[1:], d[1:]) if nz.size == T - 1 else (logeta[nz], d[nz])
        return cls(M, _run_starts(nz, le, np.sign(dz), OCTAVE_BINS))


def _run_starts(nz, le, sign, bins) -> np.ndarray:
    """The entries of ``nz[1:]`` where a new run of (``sign``, LR bin of ``bins`` per octave of
    ``le`` = log LR) starts: the cuts of :class:`_Prefix`."""
    if nz.size == 0:
        return np.empty(0, np.int64)
    lab = np.floor((le - le.max()) * (bins / np.log(2.0)))
    lab += sign * 1e6
    return nz[1:][lab[1:] != lab[:-1]]


def _merged_blocks(P: _Prefix, lo, hi, h):
    """Merge change points k in [lo, hi) (per row) into blocks of ``h`` steps, cut where the drop
    sign or LR octave bin changes. ``lo``, ``hi``: int arrays (rows,). Returns (row, w, v, logeta)."""
    T = P.M.shape[0] - 1
    nb = int(np.max((hi - lo + h - 1) // h)) if lo.size else 0
    if nb <= 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0)
    # block edges shared by neighbouring blocks: one gather of nb + 1 table rows per row
    edges = np.clip(np.minimum(lo[:, None] + h * np.arange(nb + 1)[None, :], hi[:, None]), 0, T)
    G = P.M[edges]  # (rows, nb + 1, 3)
    # empty blocks (b <= a, rows with shorter bands) have zero moments: never split, dropped below
    mom = (G[:, 1:] - G[:, :-1]).reshape(-1, 3)
    a, b = edges[:, :-1].ravel(), edges[:, 1:].ravel()
    rr = np.repeat(np.arange(lo.size, dtype=np.int64), nb)
    if P.cuts.size:
        i0 = np.searchsorted(P.cuts, a, "right")
        i1 = np.searchsorted(P.cuts, b, "left")
        n = i1 - i0 + 1
        split = n > 1
        if split.any():  # blocks that straddle a cut: recompute them piece by piece
            keep = ~split
            a, b, i0, n, rs = a[split], b[split], i0[split], n[split], rr[split]
            rep = np.repeat(np.arange(a.size), n)
            j = np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n)
            cut_lo = P.cuts[np.clip(i0[rep] + j - 1, 0, P.cuts.size - 1)]
            cut_hi = P.cuts[np.clip(i0[rep] + j, 0, P.cuts.size - 1)]
            a2 = np.where(j == 0, a[rep], cut_lo)
            b2 = np.where(j == n[rep] - 1, b[rep], cut_hi)
            rr = np.concatenate([rr[keep], rs[rep]])
            mom = np.concatenate([mom[keep], P.M[b2] - P.M[a2]])
    m = mom[:, 0] != 0
    mom = mom[m]
    return rr[m], mom[:, 0], mom[:, 1] / mom[:, 0], mom[:, 2] / mom[:, 0]


def _gc(w, c, D, beta):
    """w * (1 - (1 + c*max(D, 0))^(-beta))."""
    return w * -np.expm1(-beta * np.log1p(c * np.maximum(D, 0.0)))


def mpl_drop_every_step(lr, C: float, beta: float, gamma: float, base: int = 8, sep: int = 2,
                        nodes: int = 4, per_block: int = 2) -> np.ndarray:
    """LD at every step 0..T-1 in O(T * (sep*base + nodes*levels)) -- for long smooth schedules.

    Multilevel scheme. At level l the steps are cut into chunks of ``base*2^l`` steps. For a step s
    in a level-0 chunk starting at a_0, the change points a_0 - sep*base <= k <= s are summed
    exactly. The band of change points a_{l+1} - sep*b_{l+1} <= k < a_l - sep*b_l (a_l: start of
    s's level-l chunk, b_l its length) lies at least ``sep`` chunk lengths away from every step of
    the chunk, so its contribution is smooth in the LR area u = S1(s): it is evaluated at
    ``nodes`` Chebyshev points in u (band merged into blocks of b_l/``per_block`` steps, split by
    sign) and interpolated. Levels stop once sep*b_l >= T. Error: about 3e-7 nats on a 1M-step
    cosine with MPL parameters (benchmarks/law_speed.py checks 1,000 steps against the exact sum).
    """
    lr = _as_lr(lr)
    T = lr.size
    cum = np.cumsum(lr)
    cumprev = np.concatenate([[0.0], cum[:-1]])
    d = lr_drops(lr)
    floor = ETA_FLOOR * max(float(lr.max()), 1e-300)
    logeta = np.log(np.maximum(lr, floor))
    P = _Prefix.of_steps(d, cumprev, logeta)
    W = sep * base
    top = base
    while sep * top < T:
        top *= 2
    Tp = -(-T // top) * top  # padded so that every chunk of every level is whole
    cum_p = np.concatenate([cum, np.full(Tp - T, cum[-1])])
    out = np.zeros(Tp)
    # exact near field: k in [a0 - W, s]; per offset, k is the same for the whole level-0 chunk.
    # Terms with k > s vanish by themselves (S_k(s) <= 0 -> G = 0), so no mask is needed.
    c_all = C * np.exp(-gamma * logeta)
    U = cum_p.reshape(-1, base)
    a0c = np.arange(U.shape[0]) * base
    out2d = out.reshape(-1, base)
    buf = np.empty_like(U)
    for o in range(W + base):
        k = a0c - W + o
        ok = (k >= 1) & (k < T)
        kk = np.where(ok, k, 0)
        dk = np.where(ok, d[kk], 0.0)
        if not dk.any():
            continue
        # in place on one buffer: out2d -= dk * expm1(-beta * log1p(c_k * max(U - S1(k-1), 0)))
        np.subtract(U, cumprev[kk][:, None], out=buf)
        np.maximum(buf, 0.0, out=buf)
        buf *= c_all[kk][:, None]
        np.log1p(buf, out=buf)
        buf *= -beta
        np.expm1(buf, out=buf)
        buf *= dk[:, None]
        out2d -= buf
    # Chebyshev machinery on [-1, 1]; interpolants are evaluated as monomials (Horner) in t
    jn = np.arange(nodes)
    xn = np.cos(np.pi * (jn + 0.5) / nodes)
    coef_mat = np.cos(np.outer(jn, np.arccos(xn))) * (2.0 / nodes)  # [j, i] = 2/n * T_j(x_i)
    coef_mat[0] *= 0.5
    to_mono = np.zeros((nodes, nodes))  # [j, m]: T_j(t) = sum_m to_mono[j, m] * t^m
    for j in range(nodes):
        mono = np.polynomial.chebyshev.cheb2poly(np.eye(nodes)[j])
        to_mono[j, :mono.size] = mono
    lvl = 0
    while True:
        bl = base << lvl
        nch = -(-T // bl)
        a = np.arange(nch) * bl
        hi = a - sep * bl
        lo = np.maximum((a // (2 * bl)) * (2 * bl) - sep * 2 * bl, 1)
        use = hi > lo
        if use.any():
            ci = np.flatnonzero(use)
            row, w, v, le = _merged_blocks(P, lo[ci], hi[ci], max(1, bl // per_block))
            contiguous = ci[-1] - ci[0] + 1 == ci.size
            if contiguous:  # views instead of gathers
                s0, s1 = ci[0] * bl, (ci[-1] + 1) * bl
                u = cum_p[s0:s1].reshape(-1, bl)
            else:
                span = ci[:, None] * bl + np.arange(bl)[None, :]  # (chunks, bl) steps
                u = cum_p[span]
            cb = C * np.exp(-gamma * le)
            if bl <= nodes:  # small chunks: evaluate directly at every step
                acc = np.zeros((ci.size, bl))
                for i in range(bl):
                    acc[:, i] = np.bincount(row, weights=_gc(w, cb, u[row, i] - v, beta), minlength=ci.size)
            else:
                ulo, uhi = u[:, 0], u[:, -1]
                mid, half = 0.5 * (uhi + ulo), 0.5 * (uhi - ulo)
                vals = np.zeros((ci.size, nodes))
                for i in range(nodes):
                    un = mid + half * xn[i]
                    vals[:, i] = np.bincount(row, weights=_gc(w, cb, un[row] - v, beta), minlength=ci.size)
                mono = (vals @ coef_mat.T) @ to_mono  # (chunks, nodes) monomial coefficients in t
                inv = np.where(half > 0, 1.0 / np.where(half > 0, half, 1.0), 0.0)[:, None]
                t = (u - mid[:, None]) * inv
                acc = np.broadcast_to(mono[:, -1:], t.shape).copy()
                for j in range(nodes - 2, -1, -1):
                    acc *= t
                    acc += mono[:, j:j + 1]
            if contiguous:
                out[s0:s1] += acc.ravel()
            else:
                out[span.ravel()] += acc.ravel()
        if sep * bl >= T:
            break
        lvl += 1
    return out[:T]

"""One BLAS thread for lrplan's small dense least-squares solves.

:func:`scipy.optimize.least_squares` (trust-region reflective, the method with bounds) takes a dense
SVD of the (n + p) x p scaled Jacobian at every iteration. For the few-hundred-row Jacobians of the
joint hyper-parameter fit (n ~ 250-450 runs, p ~ 25 parameters), OpenBLAS's threaded path saves
nothing at these sizes (median ~0.3-0.6 ms per SVD either way) and costs a lot on a busy machine: each threaded call
must wait until its helper thread is scheduled on another core, and when that core is busy (a
parallel benchmark worker, another process; worse for a niced process) single SVDs take up to
~70-85 ms. Measured on the Step Law grid (30 % subsets, 2 cores, the other core busy): a joint fit
with a 3 % or 5 % window took 0.2-1.2 s (median per knob) with the default 2 BLAS threads and
0.02-0.04 s with one, with the same iterations (~20) and the same result; fits with fewer rows (a 2 %
window, ~280 rows) stayed on OpenBLAS's single-threaded path and were fast either way.
:func:`one_blas_thread` pins every loaded BLAS library to one thread for the duration of a ``with``
block (threadpoolctl) and restores it after.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _controller():
    import numpy  # noqa: F401  (numpy's and scipy's OpenBLAS are separate libraries:
    import scipy.linalg  # noqa: F401  load both before threadpoolctl lists them)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """Context manager: every BLAS library loaded by numpy/scipy runs single-threaded inside it."""
    return _controller().limit(limits=1, user_api="blas")

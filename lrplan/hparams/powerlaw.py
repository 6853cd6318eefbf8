"""Log-linear power laws y = prefactor x prod_t x_t^e_t over variables N, D, C, fitted by OLS in logs.

Used for LR*(N, D) = a N^alpha D^beta, B*(D) = b D^gamma (batch in tokens) and the compute forms
LR*(C), B*(C). Terms that the data cannot identify (a variable that is constant over the cells, or
collinear with an earlier term) are dropped with a warning instead of producing wild exponents.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from lrplan.errors import FitError, LrplanWarning

VARIABLES = ("N", "D", "C")


@dataclass
class PowerLaw:
    """``prefactor * prod(x[t] ** exponents[t])``; evaluated exactly in that form."""

    prefactor: float
    exponents: dict[str, float] = field(default_factory=dict)

    def __call__(self, **x) -> np.ndarray | float:
        out = self.prefactor
        for t, e in self.exponents.items():
            if x.get(t) is None:
                raise FitError(f"law needs {t} (it is a function of {', '.join(self.exponents)})")
            out = out * np.asarray(x[t], dtype=float) ** e
        return out

    def log_coef(self) -> np.ndarray:
        """[ln prefactor, *exponents] (the OLS coefficient vector)."""
        return np.array([np.log(self.prefactor), *self.exponents.values()])

    @classmethod
    def from_log_coef(cls, terms, coef) -> "PowerLaw":
        return cls(float(np.exp(coef[0])), {t: float(c) for t, c in zip(terms, coef[1:])})

    def formula(self, name: str = "y") -> str:
        parts = [f"{self.prefactor:.4g}"] + [f"{t}^{e:.4g}" for t, e in self.exponents.items()]
        return f"{name} = " + " * ".join(parts)

    def to_dict(self) -> dict:
        return {"prefactor": self.prefactor, "exponents": dict(self.exponents)}

    @classmethod
    def from_dict(cls, d: dict) -> "PowerLaw":
        return cls(float(d["prefactor"]), {str(k): float(v) for k, v in d.get("exponents", {}).items()})


def identifiable_terms(X: dict[str, np.ndarray], terms, what: str = "law", warn: bool = True) -> list[str]:
    """Keep the terms whose log columns are not constant and not collinear with earlier kept ones."""
    kept: list[str] = []
    for t in terms:
        A = np.column_stack([np.ones(len(X[t]))] + [np.log(X[k]) for k in kept] + [np.log(X[t])])
        if np.ptp(np.log(X[t])) < 1e-9 or np.linalg.matrix_rank(A, tol=1e-8 * max(1.0, np.abs(A).max())) < A.shape[1]:
            if warn:
                warnings.warn(LrplanWarning(f"{what}: dropped the {t} term ({t} is constant or collinear with "
                                            f"{', '.join(kept) or 'the intercept'} over the fitted cells)"), stacklevel=3)
            continue
        kept.append(t)
    return kept


def fit_power_law(y, X: dict[str, np.ndarray], terms, weights=None, what: str = "law", warn: bool = True) -> PowerLaw:
    """Weighted OLS of ln y on ln X[t] for the identifiable ``terms``."""
    y = np.asarray(y, dtype=float)
    if len(y) < 1:
        raise FitError(f"{what}: no points to fit")
    X = {t: np.asarray(v, dtype=float) for t, v in X.items()}
    kept = identifiable_terms(X, terms, what, warn) if len(y) > 1 else []
    A = np.column_stack([np.ones(len(y))] + [np.log(X[t]) for t in kept])
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(A * sw[:, None], np.log(y) * sw, rcond=None)[0]
    return PowerLaw.from_log_coef(kept, coef)

"""Training-compute accounting for compute-based laws LR*(C), B*(C): C = M x D FLOPs.

M is the training FLOPs per token; which M a law was fitted with matters (6N under-counts attention
by up to ~50 % on small models, DeepSeek LLM Table 3). Accountings:

=============  ======================================================================  ===============
``6N``         M = 6 N                                                                 Kaplan et al. 2020
``6N+attn``    M = 6 N + 12 n_layer d_model seq_len (attention score/value matmuls)    Kaplan et al. 2020 / DeepSeek
``deepseek``   M = 72 n_layer d_model^2 + 12 n_layer d_model seq_len                   DeepSeek LLM (arXiv:2401.02954)
``steplaw``    M = 6 (4 d_model + 3 d_ff + 2 seq_len) n_layer d_model                  Step Law repository code
=============  ======================================================================  ===============

N is the parameter count of the law (non-embedding for Step Law); shapes are model dimensions;
seq_len in tokens.
"""

from __future__ import annotations

import numpy as np

from lrplan.errors import ConfigError

ACCOUNTINGS = ("6N", "6N+attn", "deepseek", "steplaw")
NEEDS = {"6N": (), "6N+attn": ("n_layer", "d_model", "seq_len"), "deepseek": ("n_layer", "d_model", "seq_len"),
         "steplaw": ("n_layer", "d_model", "d_ff", "seq_len")}


def flops_per_token(accounting: str = "6N", N=None, n_layer=None, d_model=None, d_ff=None, seq_len=None):
    """Training FLOPs per token M under ``accounting`` (see module table); arrays broadcast."""
    if accounting not in ACCOUNTINGS:
        raise ConfigError(f"compute accounting {accounting!r} unknown; choose one of {', '.join(ACCOUNTINGS)}")
    given = {"n_layer": n_layer, "d_model": d_model, "d_ff": d_ff, "seq_len": seq_len}
    missing = [k for k in NEEDS[accounting] if given[k] is None]
    if accounting in ("6N", "6N+attn") and N is None:
        missing.insert(0, "N")
    if missing:
        raise ConfigError(f"compute accounting {accounting!r} needs {', '.join(missing)} (the model shape; on the "
                          "command line --layers, --d-model, --d-ff, --seq-len)")
    f = {k: None if v is None else np.asarray(v, dtype=float) for k, v in given.items()}
    if accounting == "6N":
        return 6.0 * np.asarray(N, dtype=float)
    if accounting == "6N+attn":
        return 6.0 * np.asarray(N, dtype=float) + 12.0 * f["n_layer"] * f["d_model"] * f["seq_len"]
    if accounting == "deepseek":
        return 72.0 * f["n_layer"] * f["d_model"] ** 2 + 12.0 * f["n_layer"] * f["d_model"] * f["seq_len"]
    return 6.0 * (4 * f["d_model"] + 3 * f["d_ff"] + 2 * f["seq_len"]) * f["n_layer"] * f["d_model"]


def training_compute(D, accounting: str = "6N", **shape):
    """C = M x D (FLOPs) for D tokens; ``shape`` as in :func:`flops_per_token`."""
    return flops_per_token(accounting, **shape) * np.asarray(D, dtype=float)

"""Published LR / batch laws, with the constants exactly as printed in the papers.

* Step Law (Li et al. 2025, "Predictable Scale: Part I", arXiv:2503.04715; step-law.github.io since
  2025-03-11)::

      LR*(N, D) = 1.79 N^-0.713 D^0.307        B*(D) = 0.58 D^0.571   (tokens)

  N = non-embedding parameters, D = tokens; recipe AdamW, decay to a fixed final LR of 1e-5.
* DeepSeek LLM (Bi et al. 2024, arXiv:2401.02954)::

      LR_opt = 0.3118 C^-0.1250                B_opt = 0.2920 C^0.3271  (tokens)
      C = M D,  M = 72 n_layer d_model^2 + 12 n_layer d_model seq_len  (non-embedding FLOPs/token)

  recipe AdamW (0.9, 0.95), multi-step schedule (2,000 warmup steps, x0.316 at 80 %, x0.1 at 90 %).
  (Tables that print 0.3188 carry a transcription error.)

Both come back as fitted :class:`lrplan.hparams.laws.HparamLaw` objects without a bowl (no plateau) and
without bootstrap samples.
"""

from __future__ import annotations

from lrplan.errors import ConfigError
from lrplan.hparams.laws import FORMAT, HparamLaw

PRESETS = {
    "steplaw": {
        "format": FORMAT, "name": "Step Law (Li et al. 2025, arXiv:2503.04715)", "method": "published",
        "accounting": "6N", "n_kind": "non-embedding", "seq_len": 2048, "schedule": "decay",
        "schedule_note": "AdamW, any decay to a fixed final LR of 1e-5 (min LR = peak/10 moves the optimum)",
        "lr": {"prefactor": 1.79, "exponents": {"N": -0.713, "D": 0.307}},
        "batch": {"prefactor": 0.58, "exponents": {"D": 0.571}},
    },
    "deepseek": {
        "format": FORMAT, "name": "DeepSeek LLM (Bi et al. 2024, arXiv:2401.02954)", "method": "published",
        "accounting": "deepseek", "n_kind": "non-embedding", "seq_len": 4096, "schedule": "multistep",
        "schedule_note": "AdamW (0.9, 0.95), 2000 warmup steps, LR x0.316 after 80 % and x0.1 after 90 % of tokens",
        "lr": {"prefactor": 0.3118, "exponents": {"C": -0.1250}},
        "batch": {"prefactor": 0.2920, "exponents": {"C": 0.3271}},
    },
}


def published(name: str) -> HparamLaw:
    """The published law ``name`` (``steplaw`` or ``deepseek``) as an :class:`HparamLaw`."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key not in PRESETS:
        raise ConfigError(f"preset {name!r} unknown; choose one of {', '.join(PRESETS)}")
    d = PRESETS[key]
    law = HparamLaw.from_dict(d, source=f"preset {key}")
    law.schedule_note = d["schedule_note"]
    return law

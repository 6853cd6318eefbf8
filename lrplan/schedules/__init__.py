"""Learning-rate schedules as exact per-step arrays (see :mod:`lrplan.schedules.spec` for specs).

>>> from lrplan.schedules import parse
>>> s = parse("wsd:peak=3e-4,warmup=100,cooldown=0.2,shape=1-sqrt,floor=3e-5", steps=1000)
>>> s.array().shape
(1000,)
"""

from lrplan.schedules.core import Schedule, custom, from_csv, join, warmup_ramp, with_warmup
from lrplan.schedules.export import lambda_lr, to_csv, to_frame, torch_snippet
from lrplan.schedules.families import (
    COOLDOWN_SHAPES,
    FAMILIES,
    constant,
    cosine,
    cyclic,
    decay_curve,
    exponential,
    infinite,
    inverse_sqrt,
    linear,
    multistep,
    onecycle,
    power,
    rex,
    wsd,
)
from lrplan.schedules.spec import canonical_spec, family_keys, lr_array, parse

__all__ = [
    "Schedule", "custom", "from_csv", "join", "warmup_ramp", "with_warmup",
    "lambda_lr", "to_csv", "to_frame", "torch_snippet",
    "COOLDOWN_SHAPES", "FAMILIES", "constant", "cosine", "cyclic", "decay_curve", "exponential",
    "infinite", "inverse_sqrt", "linear", "multistep", "onecycle", "power", "rex", "wsd",
    "canonical_spec", "family_keys", "lr_array", "parse",
]

"""Plain-text console logs: nanoGPT, build-nanogpt, modded-nanogpt, Megatron-LM, torchtitan.

Each line is first cleaned: ANSI colour codes (torchtitan puts them between a label and its
number) and rank prefixes (``[default0]:``, ``[rank3]:``, srun's ``0: ``) are stripped; when
several ranks print, the rank with the most matching lines is kept. Then one regex per line
type (format strings from each project's source):

==================  =======================================================  ==============================
dialect             train line (agg)                                         eval line (split ``val``)
==================  =======================================================  ==============================
``nanogpt``         ``iter 100: loss 4.1234, time 95.1ms, mfu 30.5%``        ``step 250: train loss 3.9, val loss 3.95``
                    (one micro-batch: ``step``)                              (``eval_mean``; the train estimate -> split ``train_eval``)
``build-nanogpt``   ``log.txt``: ``100 train 4.123456``; stdout:             ``250 val 3.9512`` / ``validation loss: 3.9512``
                    ``step   100 | loss: 4.123456 | lr 6.0000e-04 | ...``    (stdout: belongs to the next ``step`` line)
``modded-nanogpt``  ``step:100/1750 train_loss:4.1234 train_time:...``       ``step:125/1750 val_loss:3.9512 train_time:...``
``megatron``        ``iteration 100/ 1000 | consumed samples: 25600 |``       ``validation loss at iteration 100 | lm loss value: 4.0E+00 |``
                    ``learning rate: 3.0E-04 | ... | lm loss: 4.1E+00 |``    (``on test set``/``for test data`` -> ``test``;
                    (mean over the log interval: ``window_mean``)            ``[name]`` -> split ``name``)
``torchtitan``      ``step: 100  loss:  4.1234  grad_norm: ...`` (``step``)  ``validate step: 100  loss: 3.9512``
==================  =======================================================  ==============================

Extras: nanoGPT ``tokens per iteration will be: 491,520`` and build-nanogpt ``total desired
batch size: 524288`` give tokens = step x tokens per step (tokens seen before that step);
nanoGPT ``number of parameters: 123.69M`` -> params. Megatron's argument dump (``seq_length
...... 2048``) gives the sequence length (tokens = consumed samples x seq_length), peak LR and
global batch size; LR and global batch size are read per line. Steps are as the framework
prints them (Megatron iterations count completed updates). A restarted run that repeats steps
keeps the last value per step, with a warning. ``columns`` does not apply to text logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders._common import long_to_curves, read_text, run_name_for, warn

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
RANK = re.compile(r"^\s*\[(?:default|rank)(\d+)\]:\s?|^(\d{1,5}):\s")
NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf)"


def clean(text: str) -> list[tuple[int | None, str]]:
    """``(rank, line)`` with ANSI codes and rank prefixes removed (``\\r`` splits lines too)."""
    out = []
    for raw in text.splitlines():
        line = ANSI.sub("", raw)
        rank = None
        m = RANK.match(line)
        while m:
            rank = int(m.group(1) or m.group(2))
            line = line[m.end():]
            m = RANK.match(line)
        out.append((rank, line))
    return out


def _f(s: str) -> float:
    return float(s.replace(",", ""))


@dataclass
class Parsed:
    rows: list[dict]
    agg: dict[str, str]
    meta: dict
    extra: dict


# -- nanoGPT ------------------------------------------------------------------------------------
NANO_ITER = re.compile(rf"\biter (\d+): loss {NUM}, time", re.I)
NANO_EVAL = re.compile(rf"\bstep (\d+): train loss {NUM}, val loss {NUM}", re.I)
NANO_TPI = re.compile(r"tokens per iteration will be: ([\d,]+)")
NANO_PARAMS = re.compile(r"number of parameters: ([\d.]+)M")


def parse_nanogpt(lines: Iterable[str]) -> Parsed:
    rows, tpi, params = [], None, None
    for line in lines:
        if m := NANO_ITER.search(line):
            rows.append({"split": "train", "step": int(m.group(1)), "loss": _f(m.group(2))})
        elif m := NANO_EVAL.search(line):
            step = int(m.group(1))
            rows.append({"split": "val", "step": step, "loss": _f(m.group(3))})
            rows.append({"split": "train_eval", "step": step, "loss": _f(m.group(2))})
        elif m := NANO_TPI.search(line):
            tpi = int(m.group(1).replace(",", ""))
        elif m := NANO_PARAMS.search(line):
            params = float(m.group(1)) * 1e6
    return Parsed(rows, {"train": "step", "val": "eval_mean", "train_eval": "eval_mean"}, {"params": params},
                  _tokens_per_step(rows, tpi))


def _tokens_per_step(rows: list[dict], per_step: int | None) -> dict:
    """tokens = step x tokens per step (tokens seen before that step); the extra to record."""
    if not per_step:
        return {}
    for r in rows:
        r["tokens"] = float(r["step"] * per_step)
    return {"tokens_per_step": per_step}


# -- build-nanogpt ------------------------------------------------------------------------------
BUILD_LOG = re.compile(rf"^\s*(\d+) (train|val|hella) {NUM}\s*$")
BUILD_STEP = re.compile(rf"\bstep\s+(\d+) \| loss: {NUM} \| lr {NUM}")
BUILD_VAL = re.compile(rf"^\s*validation loss: {NUM}")
BUILD_BATCH = re.compile(r"total desired batch size: (\d+)")


def parse_build_nanogpt(lines: Iterable[str]) -> Parsed:
    rows, pending_val, batch = [], None, None
    for line in lines:
        if m := BUILD_LOG.search(line):
            if m.group(2) != "hella":
                rows.append({"split": m.group(2), "step": int(m.group(1)), "loss": _f(m.group(3))})
        elif m := BUILD_STEP.search(line):
            step = int(m.group(1))
            lr = _f(m.group(3))
            if pending_val is not None:
                rows.append({"split": "val", "step": step, "loss": pending_val, "lr": lr})
                pending_val = None
            rows.append({"split": "train", "step": step, "loss": _f(m.group(2)), "lr": lr})
        elif m := BUILD_VAL.search(line):
            pending_val = _f(m.group(1))
        elif m := BUILD_BATCH.search(line):
            batch = int(m.group(1))
    return Parsed(rows, {"train": "step", "val": "eval_mean"}, {}, _tokens_per_step(rows, batch))


# -- modded-nanogpt -----------------------------------------------------------------------------
MODDED_VAL = re.compile(rf"\bstep:(\d+)/(\d+)\b.*?\bval_loss:{NUM}")
MODDED_TRAIN = re.compile(rf"\bstep:(\d+)/(\d+)\b.*?\btrain_loss:{NUM}")


def parse_modded(lines: Iterable[str]) -> Parsed:
    rows, total = [], None
    for line in lines:
        for split, rx in (("val", MODDED_VAL), ("train", MODDED_TRAIN)):
            if m := rx.search(line):
                rows.append({"split": split, "step": int(m.group(1)), "loss": _f(m.group(3))})
                total = int(m.group(2))
    return Parsed(rows, {"train": "step", "val": "eval_mean"}, {}, {"total_steps": total} if total else {})


# -- Megatron-LM --------------------------------------------------------------------------------
MEG_ITER = re.compile(r"\biteration\s+(\d+)\s*/\s*(\d+)\s*\|(.*)")
MEG_VAL = re.compile(r"\bvalidation loss at (.*?)\|(.*)")
MEG_VAL_AT = re.compile(r"iteration (\d+)(?: on (\w+) set)?(?: \[(.+?)\])?\s*$|the end of training for (\w+) data")
MEG_ARG = re.compile(r"^\s{0,4}([a-z_][a-z0-9_]*) \.{3,} (.+?)\s*$")
_MEG_ARGS = ("seq_length", "global_batch_size", "micro_batch_size", "lr", "min_lr", "lr_decay_style",
             "lr_warmup_iters", "lr_decay_iters", "train_iters", "log_interval", "eval_interval")


def _fields(rest: str) -> dict[str, str]:
    out = {}
    for part in rest.split("|"):
        key, sep, value = part.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def _num_or_none(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def parse_megatron(lines: Iterable[str]) -> Parsed:
    rows, args, last_iter = [], {}, None
    seen_eval = set()
    for line in lines:
        if m := MEG_ITER.search(line):
            it = int(m.group(1))
            last_iter = it
            f = _fields(m.group(3))
            loss = f.get("lm loss", f.get("loss"))
            if loss is None:
                continue
            value = _num_or_none(loss)
            rows.append({"split": "train", "step": it, "loss": float("nan") if value is None else value,
                         "lr": _num_or_none(f.get("learning rate")), "batch_size": _num_or_none(f.get("global batch size")),
                         "samples": _num_or_none(f.get("consumed samples"))})
        elif m := MEG_VAL.search(line):
            at, f = m.group(1).strip(), _fields(m.group(2))
            loss = f.get("lm loss value")
            if loss is None:
                loss = next((v for k, v in f.items() if k.endswith("loss value")), None)
            if loss is None:
                continue
            a = MEG_VAL_AT.search(at)
            if a is None:
                continue
            if a.group(4):  # end of training: at the last iteration, unless already logged there
                split = "test" if a.group(4).lower() == "test" else "val"
                step = last_iter
                if step is None or (split, step) in seen_eval:
                    continue
            else:
                step = int(a.group(1))
                split = a.group(3) or ("test" if (a.group(2) or "").lower() == "test" else "val")
            seen_eval.add((split, step))
            value = _num_or_none(loss)
            rows.append({"split": split, "step": step, "loss": float("nan") if value is None else value})
        elif m := MEG_ARG.search(line):
            if m.group(1) in _MEG_ARGS:
                args[m.group(1)] = m.group(2)
    seq = _num_or_none(args.get("seq_length"))
    for r in rows:
        samples = r.pop("samples", None)
        if seq and samples is not None:
            r["tokens"] = samples * seq
    meta = {"seq_len": int(seq) if seq else None, "peak_lr": _num_or_none(args.get("lr")),
            "batch_size": _num_or_none(args.get("global_batch_size"))}
    extra = {"args": args} if args else {}
    if args.get("log_interval"):
        extra["agg_window"] = int(_num_or_none(args["log_interval"]) or 0) or None
    return Parsed(rows, {"train": "window_mean", "val": "eval_mean", "test": "eval_mean"}, meta, extra)


# -- torchtitan ---------------------------------------------------------------------------------
TITAN_TRAIN = re.compile(rf"(?<!validate )\bstep:\s*(\d+)\s+loss:\s*{NUM}")
TITAN_VAL = re.compile(rf"\bvalidate step:\s*(\d+)\s+loss:\s*{NUM}")


def parse_torchtitan(lines: Iterable[str]) -> Parsed:
    rows = []
    for line in lines:
        if m := TITAN_VAL.search(line):
            rows.append({"split": "val", "step": int(m.group(1)), "loss": _f(m.group(2))})
        elif m := TITAN_TRAIN.search(line):
            rows.append({"split": "train", "step": int(m.group(1)), "loss": _f(m.group(2))})
    return Parsed(rows, {"train": "step", "val": "eval_mean"}, {}, {})


@dataclass(frozen=True)
class Dialect:
    name: str
    patterns: tuple[re.Pattern, ...]
    parse: Callable[[Iterable[str]], Parsed]


DIALECTS = {d.name: d for d in (
    Dialect("nanogpt", (NANO_ITER, NANO_EVAL), parse_nanogpt),
    Dialect("build-nanogpt", (BUILD_LOG, BUILD_STEP), parse_build_nanogpt),
    Dialect("modded-nanogpt", (MODDED_VAL, MODDED_TRAIN), parse_modded),
    Dialect("megatron", (MEG_ITER, MEG_VAL), parse_megatron),
    Dialect("torchtitan", (TITAN_TRAIN, TITAN_VAL), parse_torchtitan),
)}


def _matches(d: Dialect, line: str) -> bool:
    return any(p.search(line) for p in d.patterns)


def sniff(text: str, max_lines: int = 20000) -> str | None:
    """The dialect with the most matching lines among the first ``max_lines``, or None."""
    lines = [line for _, line in clean(text)[:max_lines]]
    counts = {name: sum(1 for line in lines if _matches(d, line)) for name, d in DIALECTS.items()}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] > 0 else None


def load_text_log(path: Path, columns: Mapping[str, str] | None = None, dialect: str | None = None) -> Curves:
    """Load a console log; ``dialect`` is one of :data:`DIALECTS` (sniffed when None)."""
    path = Path(path)
    text = read_text(path, strict=False)
    dialect = dialect or sniff(text)
    if dialect is None:
        raise LoadError(f"{path}: no training-log lines recognised (nanoGPT, build-nanogpt, modded-nanogpt, "
                        "Megatron-LM, torchtitan)")
    if dialect not in DIALECTS:
        raise LoadError(f"{path}: unknown log dialect {dialect!r}; allowed: {', '.join(DIALECTS)}")
    if columns:
        warn(f"{path}: the column mapping does not apply to {dialect} text logs; ignored")
    d = DIALECTS[dialect]
    cleaned = clean(text)
    per_rank: dict[int | None, int] = {}
    for rank, line in cleaned:
        if rank is not None and _matches(d, line):
            per_rank[rank] = per_rank.get(rank, 0) + 1
    keep = min(per_rank, key=lambda r: (-per_rank[r], r)) if per_rank else None
    # data lines from one rank only (ranks may repeat them); other lines (config dumps) from any rank
    parsed = d.parse(line for rank, line in cleaned if rank is None or rank == keep or not _matches(d, line))
    if not parsed.rows:
        raise LoadError(f"{path}: no loss lines of a {dialect} log found")
    # eval lines carry no LR/tokens: take the train line's of the same step
    at = {k: {r["step"]: r[k] for r in parsed.rows if r["split"] == "train" and r.get(k) is not None}
          for k in ("lr", "tokens")}
    run = run_name_for(path)
    for r in parsed.rows:
        r["run"] = run
        for k, table in at.items():
            if r.get(k) is None and r["step"] in table:
                r[k] = table[r["step"]]
    extra = {"file": str(path), **parsed.extra}
    if keep is not None and len(per_rank) > 1:
        extra["rank"] = keep
    return long_to_curves(parsed.rows, source=str(path), fmt=dialect, agg=parsed.agg, extra=extra, meta=parsed.meta)

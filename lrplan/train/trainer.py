"""The training loop: any lrplan schedule, exact checkpoint/resume, canonical curve logs.

>>> from lrplan.train import TrainConfig, train                       # doctest: +SKIP
>>> result = train(TrainConfig(preset="nano", schedule="wsd:peak=3e-3,warmup=50,cooldown=0.2",
...                            steps=500, batch_size=16), out="runs/nano-wsd")

Output folder ``out``:

``curves.csv``
    Canonical curve rows ``run, split, step, tokens, lr, loss, batch_size, grad_norm, tokens_per_s``
    (:class:`lrplan.curves.Curves` reads it; ``lrplan fit`` too). ``train`` rows every step: the
    loss of the batch at step ``s`` (0-based) under the parameters after ``s`` optimizer updates,
    ``lr`` the absolute LR applied in update ``s``. ``val`` rows (and one per extra evaluation set)
    at steps 0, K, 2K, ... and T: the mean loss over fixed validation batches of the model after
    ``s`` updates. ``tokens`` = ``s * batch_size * block_size`` (tokens trained on before the
    measurement). Loss in nats/token. ``tokens_per_s`` is wall-clock throughput (train rows only).
    Rewritten atomically at every evaluation and checkpoint, so it can be watched during a run.
``meta.json``
    Config, schedule spec, parameter count, seed, device, status (``running``, ``finished``,
    ``diverged``, ``failed``), final losses.
``ckpt.pt``
    The last checkpoint (model, optimizer, RNG and data-sampler state, number of log rows),
    written atomically every ``checkpoint_every`` steps.

Resume: :func:`train` on a folder holding a checkpoint of the same config continues from it,
truncating ``curves.csv`` to the rows logged up to the checkpoint, so a run killed at any moment
and resumed gives the same rows as an uninterrupted one (bitwise on CPU with the same thread
count). A finished run is not retrained.

The LR is written to every ``param_group["lr"]`` before each step from the exact float64 array of
:func:`lrplan.schedules.parse` (no LambdaLR), so any planned schedule runs as specified.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from lrplan import _io
from lrplan.errors import ConfigError, LrplanError
from lrplan.schedules import canonical_spec, custom, parse
from lrplan.train.data import BatchSampler, Injections, Mixture, eval_batches, load_corpus
from lrplan.train.model import GPT, model_config
from lrplan.train.results import read_meta

LOG_COLUMNS = ["run", "split", "step", "tokens", "lr", "loss", "batch_size", "grad_norm", "tokens_per_s"]
DONE = ("finished", "diverged")
RESUME_FREE = ("threads", "device")  # may change between a checkpoint and its resume


@dataclass
class TrainConfig:
    """Everything that defines a run (all plain values, so it round-trips through JSON/TOML).

    Units: ``steps`` optimizer steps; ``batch_size`` sequences per optimizer step (split into
    ``grad_accum`` micro-batches); LRs absolute. ``schedule`` is an lrplan spec; ``lr`` (a list of
    per-step LRs) replaces it when given; ``peak_lr`` rescales the whole schedule so its maximum is
    ``peak_lr`` (handy in grids). ``corpus`` is a corpus spec (see :mod:`lrplan.train.data`);
    ``corpora`` (name -> spec), ``mixture`` (``[[start_step, {name: weight}], ...]``) and
    ``eval_sets`` (split name -> corpus name) configure multi-corpus runs. ``diverge_loss``: a
    train loss above it (or NaN/inf) stops the run with status ``diverged`` (0 = auto,
    1.5 * ln(256) = 8.3 nats). ``keep_checkpoint``: keep ``ckpt.pt`` of the last step when the run
    ends (to continue training from it); ``False`` deletes it (saves disk in sweeps).
    """

    preset: str | None = "nano"
    n_layer: int | None = None
    n_head: int | None = None
    n_embd: int | None = None
    block_size: int | None = None
    schedule: str = "cosine:peak=3e-3,warmup=0.1,floor=0.1x"
    lr: list[float] | None = None
    peak_lr: float | None = None
    steps: int = 500
    batch_size: int = 16
    grad_accum: int = 1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 0
    corpus: str = "stdlib"
    corpora: dict[str, str] = field(default_factory=dict)
    mixture: list = field(default_factory=list)
    eval_sets: dict[str, str] = field(default_factory=dict)
    eval_every: int = 50
    eval_batches: int = 4
    eval_batch_size: int = 32
    checkpoint_every: int = 100
    device: str = "auto"
    threads: int | None = None
    run: str | None = None
    diverge_loss: float = 0.0
    keep_checkpoint: bool = True

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "config") -> "TrainConfig":
        """Build from a plain dict, naming unknown keys (with the closest known one)."""
        import difflib

        names = [f.name for f in fields(cls)]
        for k in d:
            if k not in names:
                close = difflib.get_close_matches(k, names, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"{source}: unknown trainer setting '{k}'{hint}")
        return cls(**dict(d))

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        """Raise :class:`ConfigError` (one line naming the key) on an invalid value."""
        def positive_int(name):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"trainer {name} must be a positive integer, got {v!r}")

        for name in ("steps", "batch_size", "grad_accum", "eval_every", "eval_batches", "eval_batch_size", "checkpoint_every"):
            positive_int(name)
        if self.batch_size % self.grad_accum:
            raise ConfigError(f"trainer batch_size ({self.batch_size}) must be divisible by grad_accum ({self.grad_accum})")
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"trainer {name} must be in [0, 1), got {getattr(self, name)!r}")
        for name in ("eps", "weight_decay", "grad_clip", "diverge_loss"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ConfigError(f"trainer {name} must be a finite number >= 0, got {v!r}")
        if self.peak_lr is not None and not (math.isfinite(self.peak_lr) and self.peak_lr > 0):
            raise ConfigError(f"trainer peak_lr must be a positive number, got {self.peak_lr!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ConfigError(f"trainer threads must be a positive integer, got {self.threads!r}")
        if self.run is not None:
            check_run_name(self.run)
        if self.device not in ("auto", "cpu") and not str(self.device).startswith("cuda"):
            raise ConfigError(f"trainer device must be auto, cpu or cuda[:N], got {self.device!r}")
        self.model_config()
        self.lr_array()

    def model_config(self):
        return model_config(self.preset, n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd,
                            block_size=self.block_size)

    def lr_array(self) -> np.ndarray:
        """The exact per-step absolute LR (float64, length ``steps``)."""
        sched = custom(self.lr) if self.lr is not None else parse(self.schedule, self.steps)
        if sched.steps != self.steps:
            raise ConfigError(f"trainer lr: the LR array has {sched.steps} values but steps={self.steps}")
        arr = sched.array()
        if self.peak_lr is not None:
            arr = arr * (self.peak_lr / sched.peak)
        return arr

    def schedule_spec(self) -> str:
        """The exact spec of the applied schedule, with ``steps`` and any ``peak_lr`` rescaling
        folded in, so that lrplan's laws rebuild the very LR array that was trained with;
        ``"custom"`` for an explicit ``lr`` list (or a rescaled spec that cannot be written)."""
        if self.lr is not None:
            return "custom"
        return canonical_spec(self.schedule, self.steps, self.peak_lr)

    def corpus_specs(self) -> dict[str, str]:
        return dict(self.corpora) if self.corpora else {"main": self.corpus}

    def split_names(self) -> dict[str, str]:
        """Evaluation split name -> corpus name (default: ``val`` on the first corpus, plus
        ``val_<name>`` for every corpus when there are several)."""
        if self.eval_sets:
            return dict(self.eval_sets)
        names = list(self.corpus_specs())
        out = {"val": names[0]}
        if len(names) > 1:
            out.update({f"val_{n}": n for n in names})
        return out


@dataclass
class TrainResult:
    """What :func:`train` returns: the run folder, status and final losses (nats/token)."""

    out: Path
    status: str
    steps_done: int
    final_train_loss: float | None
    final_val_loss: float | None
    params: int
    resumed_from: int | None = None


def check_run_name(name: str) -> None:
    """Run names go unquoted into the CSV log: no commas, quotes or newlines."""
    if not str(name).strip() or any(c in str(name) for c in ',"\n\r'):
        raise ConfigError(f"trainer run name {name!r} must be non-empty without commas, quotes or newlines "
                          "(set run= or rename the output folder)")


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"trainer device {device!r}: CUDA is not available on this machine")
    return torch.device(device)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return repr(float(x)) if isinstance(x, float) else str(x)


class Trainer:
    """One run. Build it, then :meth:`fit`. Callbacks are objects with any of ``on_step(trainer,
    step, loss)`` (after each optimizer step; ``loss`` a 0-d tensor), ``on_eval(trainer, step)``
    (after each evaluation; may return ``{split_name: value}`` to log extra rows, values > 0,
    e.g. a probe's negative log-likelihood in nats) and ``on_end(trainer)``.

    Attributes useful to callbacks: ``model``, ``optimizer``, ``config``, ``step``, ``device``,
    :meth:`evaluate_tokens` (mean loss of given sequences) and :meth:`log_row`.
    """

    def __init__(self, config: TrainConfig, out: str | os.PathLike, callbacks: Sequence[Any] = (),
                 injections: Injections = None, progress: bool = False):
        config.validate()
        self.config = config
        self.out = Path(out)
        self.callbacks = list(callbacks)
        self.progress = progress
        self.run_name = config.run or self.out.name
        check_run_name(self.run_name)
        self.lr = config.lr_array()
        self.schedule_spec = config.schedule_spec()  # written into every meta.json
        self.device = pick_device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        mcfg = config.model_config()
        self.corpora = {n: load_corpus(s) for n, s in config.corpus_specs().items()}
        mixture = Mixture(config.mixture, list(self.corpora)) if config.mixture else None
        splits = config.split_names()
        for split, cname in splits.items():
            if cname not in self.corpora:
                raise ConfigError(f"trainer eval_sets: split {split!r} names unknown corpus {cname!r}; corpora: {', '.join(self.corpora)}")
        torch.manual_seed(config.seed)
        self.model = GPT(mcfg).to(self.device)
        self.params = self.model.num_params()
        self.micro = config.batch_size // config.grad_accum
        self.sampler = BatchSampler(self.corpora, mcfg.block_size, self.micro, config.seed + 1, mixture, injections)
        self.eval_sets = {s: eval_batches(self.corpora[c], mcfg.block_size, config.eval_batch_size, config.eval_batches)
                          for s, c in splits.items()}
        kw = {"fused": True} if self.device.type in ("cpu", "cuda") else {}
        self.optimizer = torch.optim.AdamW(self.model.optimizer_groups(config.weight_decay), lr=float(self.lr[0]),
                                           betas=(config.beta1, config.beta2), eps=config.eps, **kw)
        self.autocast = self.device.type == "cuda"
        self.tokens_per_step = config.batch_size * mcfg.block_size
        self.diverge_loss = config.diverge_loss or 1.5 * math.log(mcfg.vocab_size)
        self.step = 0
        self.rows: list[str] = []
        self.status = "running"
        self.error: str | None = None
        self.resumed_from: int | None = None
        self.last_train: float | None = None
        self.last_val: float | None = None

    # -- logging ---------------------------------------------------------------
    def log_row(self, split: str, step: int, loss: float, lr: float | None = None, grad_norm=None, tokens_per_s=None):
        """Append one canonical row (written out at the next flush)."""
        if lr is None:
            lr = float(self.lr[min(step, len(self.lr) - 1)])
        vals = [self.run_name, split, step, step * self.tokens_per_step, lr, loss, self.config.batch_size,
                grad_norm, tokens_per_s]
        self.rows.append(",".join(_fmt(v) for v in vals) + "\n")

    def _write_log(self) -> None:
        _io.write_text(self.out / "curves.csv", ",".join(LOG_COLUMNS) + "\n" + "".join(self.rows))

    def _write_meta(self, wall: float = 0.0) -> None:
        meta = {
            "run": self.run_name, "status": self.status, "steps_done": self.step, "steps": self.config.steps,
            "params": self.params, "tokens": self.step * self.tokens_per_step, "seed": self.config.seed,
            "schedule": self.schedule_spec, "peak_lr": float(self.lr.max()),
            "batch_size": self.config.batch_size, "seq_len": self.model.config.block_size,
            "model": self.model.config.to_dict(), "device": str(self.device), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "final_train_loss": self.last_train, "final_val_loss": self.last_val,
            "error": self.error, "wall_s": round(wall, 3), "config": self.config.to_dict(),
        }
        _io.write_json(self.out / "meta.json", _finite(meta))

    # -- checkpoints -----------------------------------------------------------
    def _save_checkpoint(self) -> None:
        self._write_log()  # the log first: a checkpoint never points past the rows on disk
        state = {
            "step": self.step, "rows": len(self.rows), "config": self.config.to_dict(),
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "sampler": self.sampler.state_dict(), "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None,
            "last_train": self.last_train, "last_val": self.last_val,
        }
        with _io.atomic_path(self.out / "ckpt.pt") as tmp:
            torch.save(state, tmp)

    def _try_resume(self) -> None:
        path = self.out / "ckpt.pt"
        if not path.exists():
            return
        state = torch.load(path, map_location=self.device, weights_only=False)
        diff = _differences(state["config"], self.config.to_dict())
        if diff:
            raise ConfigError(f"{self.out}: holds a checkpoint of a different run (differs in {', '.join(diff)}); "
                              "use another --out or delete the folder")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        if state.get("cuda_rng") is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.step = self.resumed_from = int(state["step"])
        self.last_train, self.last_val = state["last_train"], state["last_val"]
        lines = (self.out / "curves.csv").read_text().splitlines(keepends=True)[1:] if (self.out / "curves.csv").exists() else []
        if len(lines) < state["rows"]:
            raise LrplanError(f"{self.out / 'curves.csv'}: has {len(lines)} rows but the checkpoint expects {state['rows']}; delete the folder to restart")
        self.rows = lines[: state["rows"]]
        self._write_log()

    # -- evaluation ------------------------------------------------------------
    @torch.no_grad()
    def evaluate_tokens(self, batches) -> float:
        """Mean loss (nats/token) of the model on a list of (x, y) batches."""
        self.model.eval()
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        for x, y in batches:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                _, loss = self.model(x.to(self.device), y.to(self.device))
            total += loss.double()
        self.model.train()
        return float(total) / len(batches)

    def _evaluate(self) -> None:
        for split, batches in self.eval_sets.items():
            loss = self.evaluate_tokens(batches)
            self.log_row(split, self.step, loss)
            if split == "val":
                self.last_val = loss
        for cb in self.callbacks:
            if hasattr(cb, "on_eval"):
                extra = cb.on_eval(self, self.step) or {}
                for split, value in extra.items():
                    self.log_row(split, self.step, float(value))

    # -- the loop --------------------------------------------------------------
    def _train_step(self, step: int):
        lr = float(self.lr[step])
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        total = torch.zeros((), device=self.device)
        for micro in range(self.config.grad_accum):
            x, y = self.sampler.next(step, inject=micro == 0)
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                _, loss = self.model(x, y)
            (loss / self.config.grad_accum).backward()
            total += loss.detach() / self.config.grad_accum
        if self.config.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        else:
            norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in self.model.parameters()]))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total, norm

    def fit(self) -> TrainResult:
        """Train to ``steps`` (resuming from a checkpoint in ``out`` if there is one)."""
        cfg = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        meta = read_meta(self.out)
        if meta is not None:
            diff = _differences(meta.get("config") or {}, _finite(cfg.to_dict()))
            if diff:
                raise ConfigError(f"{self.out}: holds a different run (differs in {', '.join(diff)}); "
                                  "use another --out or delete the folder")
            if meta.get("status") in DONE:
                return TrainResult(self.out, meta["status"], meta["steps_done"], meta.get("final_train_loss"),
                                   meta.get("final_val_loss"), meta["params"])
        self._try_resume()
        t_start = time.perf_counter()
        self._write_meta()
        pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        window_t = time.perf_counter()

        def flush() -> bool:
            """Turn pending step tensors into rows (one sync); False when the run diverged."""
            nonlocal window_t
            if not pending:
                return True
            vals = torch.stack([torch.stack([l.float(), n.float()]) for _, l, n in pending]).cpu().tolist()
            now = time.perf_counter()
            tps = len(pending) * self.tokens_per_step / max(now - window_t, 1e-9)
            window_t = now
            ok = True
            for (s, _, _), (loss, norm) in zip(pending, vals):
                self.log_row("train", s, loss, grad_norm=norm, tokens_per_s=tps)
                self.last_train = loss
                if not math.isfinite(loss) or loss > self.diverge_loss:
                    ok = False
                    self.step = s + 1  # the rows stop at the diverging step
                    break
            pending.clear()
            return ok

        bar = _progress(self.progress, cfg.steps, self.step, self.run_name)
        try:
            if self.step == 0:
                self._evaluate()
            while self.step < cfg.steps:
                loss, norm = self._train_step(self.step)
                pending.append((self.step, loss, norm))
                for cb in self.callbacks:
                    if hasattr(cb, "on_step"):
                        cb.on_step(self, self.step, loss)
                self.step += 1
                boundary = self.step % cfg.eval_every == 0 or self.step == cfg.steps or self.step % cfg.checkpoint_every == 0
                if boundary or len(pending) >= 16:
                    if not flush():
                        self.status = "diverged"
                        break
                if self.step % cfg.eval_every == 0 or self.step == cfg.steps:
                    self._evaluate()
                    self._write_log()  # so the curve can be watched while the run goes on
                if bar is not None:
                    bar.advance(self.step, self.last_train, self.last_val)
                if self.step % cfg.checkpoint_every == 0 and self.step < cfg.steps:
                    self._save_checkpoint()
                    self._write_meta(time.perf_counter() - t_start)
            if self.status == "running":
                self.status = "finished"
        except BaseException as e:
            if not isinstance(e, KeyboardInterrupt):
                self.status, self.error = "failed", f"{type(e).__name__}: {e}"
                self._write_meta(time.perf_counter() - t_start)
            raise
        finally:
            if bar is not None:
                bar.close()
        if cfg.keep_checkpoint:
            self._save_checkpoint()
        else:
            (self.out / "ckpt.pt").unlink(missing_ok=True)
        self._write_log()
        self._write_meta(time.perf_counter() - t_start)
        for cb in self.callbacks:
            if hasattr(cb, "on_end"):
                cb.on_end(self)
        return TrainResult(self.out, self.status, self.step, self.last_train, self.last_val, self.params, self.resumed_from)


def _differences(old: Mapping, new: Mapping) -> list[str]:
    """Config keys (other than :data:`RESUME_FREE`) whose values differ."""
    return sorted(k for k in set(old) | set(new) if k not in RESUME_FREE and old.get(k) != new.get(k))


def _finite(obj):
    """JSON-safe copy: NaN/inf floats become None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


class _Bar:
    def __init__(self, total: int, done: int, name: str):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from lrplan.cli.app import err_console

        self.p = Progress(TextColumn(f"[bold]{name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          TextColumn("{task.fields[info]}"), console=err_console, transient=False)
        self.task = self.p.add_task("train", total=total, completed=done, info="")
        self.p.start()

    def advance(self, step, train, val):
        info = f"train {train:.4f}" if train is not None else ""
        if val is not None:
            info += f"  val {val:.4f}"
        self.p.update(self.task, completed=step, info=info)

    def close(self):
        self.p.stop()


def _progress(enabled: bool, total: int, done: int, name: str):
    return _Bar(total, done, name) if enabled else None


def train(config: TrainConfig | Mapping[str, Any], out: str | os.PathLike, callbacks: Sequence[Any] = (),
          injections: Injections = None, progress: bool = False) -> TrainResult:
    """Train (or resume, or skip a finished) run into folder ``out``; see the module docstring."""
    if not isinstance(config, TrainConfig):
        config = TrainConfig.from_dict(config)
    return Trainer(config, out, callbacks, injections, progress).fit()

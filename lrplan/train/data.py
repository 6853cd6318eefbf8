"""Byte-level corpora that need no download, and a checkpointable batch sampler.

Corpus specs (the ``corpus`` / ``corpora`` fields of :class:`lrplan.train.TrainConfig`):

``stdlib``
    The Python standard library's own ``.py`` files (``sysconfig.get_paths()["stdlib"]``), minus
    ``test/``, ``tests/``, ``idlelib/`` and ``site-packages`` (~11 MB). Deterministic file-level
    split: a file is in val when ``crc32(relative path) % 10 == 0`` (~10 % of the files).
``synthetic[:key=value,...]``
    A first-order Markov chain over ``vocab`` byte values (default 32) in which every symbol has
    ``branch`` equally likely successors (default 4), chosen at random with ``seed`` (default 0).
    Its entropy rate is exactly ``ln(branch)`` nats/token, the loss floor of a perfect model;
    ``bytes`` sets the length (default 200000; val is another 10 %).
``PATH``
    A text file (val = its last 10 %) or a folder (every non-hidden file without NUL bytes,
    split by file as for ``stdlib`` when it has at least 10 files, otherwise the last 10 % of the
    concatenated bytes).

A data mixture schedule (:class:`Mixture`) picks, for every sequence of a batch, which named
corpus it comes from: phases ``(start_step, {name: weight})``, each active from its start step
until the next phase. A switch from corpus A to B at step 1000 with 10 % replay of A is
``[(0, {"A": 1}), (1000, {"B": 0.9, "A": 0.1})]``.

Batches are random windows of ``block_size + 1`` bytes drawn with a seeded ``torch.Generator``;
:meth:`BatchSampler.state_dict` (generator state and number of batches drawn) makes the data
position checkpointable. ``injections`` put given token sequences into the batches of given steps
(e.g. facts for forgetting probes): a callable ``step -> list of byte strings / int sequences``.
"""

from __future__ import annotations

import functools
import math
import sysconfig
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from lrplan.errors import ConfigError

VAL_EVERY = 10  # one file in 10 (by crc32 of its relative path) goes to val
EXCLUDED_DIRS = {"test", "tests", "idlelib", "site-packages", "__pycache__"}


@dataclass(frozen=True)
class Corpus:
    """Train and val byte streams of one corpus (``uint8`` arrays). ``entropy`` is the known
    entropy rate in nats/token for synthetic corpora, else ``None``."""

    name: str
    train: np.ndarray
    val: np.ndarray
    entropy: float | None = None

    def split(self, which: str) -> np.ndarray:
        return self.train if which == "train" else self.val


def _bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


def _split_files(files: list[tuple[str, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """File-level split by crc32 of the relative path; files joined with a newline."""
    train = [b for rel, b in files if zlib.crc32(rel.encode()) % VAL_EVERY]
    val = [b for rel, b in files if not zlib.crc32(rel.encode()) % VAL_EVERY]
    return _bytes(b"\n".join(train)), _bytes(b"\n".join(val))


def _tail_split(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    cut = len(data) - max(len(data) // VAL_EVERY, 1)
    return _bytes(data[:cut]), _bytes(data[cut:])


def stdlib_files(root: str | Path | None = None) -> list[Path]:
    """The standard library ``.py`` files used by the ``stdlib`` corpus, sorted."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    out = []
    for p in root.rglob("*.py"):
        parts = p.relative_to(root).parts[:-1]
        if not EXCLUDED_DIRS.intersection(parts):
            out.append(p)
    return sorted(out)


@functools.lru_cache(maxsize=8)
def _stdlib() -> Corpus:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = [(str(p.relative_to(root)), p.read_bytes()) for p in stdlib_files(root)]
    if not files:
        raise ConfigError(f"corpus 'stdlib': no .py files under {root} (a minimal Python?); use --corpus PATH or synthetic")
    train, val = _split_files(files)
    return Corpus("stdlib", train, val)


def synthetic(vocab: int = 32, branch: int = 4, seed: int = 0, n_bytes: int = 200_000) -> Corpus:
    """A Markov chain with entropy rate exactly ``ln(branch)`` nats/token (see module docstring)."""
    if not 2 <= vocab <= 256 or not 1 <= branch <= vocab or n_bytes < 100:
        raise ConfigError(f"synthetic corpus: need 2 <= vocab <= 256, 1 <= branch <= vocab, bytes >= 100; "
                          f"got vocab={vocab}, branch={branch}, bytes={n_bytes}")
    rng = np.random.default_rng(seed)
    succ = np.stack([rng.choice(vocab, size=branch, replace=False) for _ in range(vocab)])
    total = n_bytes + max(n_bytes // VAL_EVERY, 1)
    picks = rng.integers(0, branch, size=total)
    seq = np.empty(total, dtype=np.uint8)
    state = int(rng.integers(vocab))
    for i in range(total):  # 220k steps of a tiny loop: ~0.1 s
        state = succ[state, picks[i]]
        seq[i] = state
    return Corpus(f"synthetic:vocab={vocab},branch={branch},seed={seed},bytes={n_bytes}",
                  seq[:n_bytes], seq[n_bytes:], entropy=math.log(branch))


def _path_corpus(spec: str) -> Corpus:
    path = Path(spec).expanduser()
    if path.is_file():
        data = path.read_bytes()
        if len(data) < 2 * VAL_EVERY:
            raise ConfigError(f"corpus {spec}: the file has only {len(data)} bytes")
        return Corpus(str(path), *_tail_split(data))
    if path.is_dir():
        files = []
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                b = p.read_bytes()
                if b and b"\x00" not in b:
                    files.append((str(rel), b))
        if not files:
            raise ConfigError(f"corpus {spec}: the folder holds no text files")
        if len(files) >= VAL_EVERY:
            train, val = _split_files(files)
            if len(train) and len(val):
                return Corpus(str(path), train, val)
        return Corpus(str(path), *_tail_split(b"\n".join(b for _, b in files)))
    raise ConfigError(f"corpus {spec!r}: not 'stdlib', 'synthetic[:...]' or an existing file/folder")


def load_corpus(spec: str) -> Corpus:
    """A :class:`Corpus` from a spec (see module docstring)."""
    spec = str(spec).strip()
    if spec == "stdlib":
        return _stdlib()
    if spec == "synthetic" or spec.startswith("synthetic:"):
        kw = {}
        body = spec.partition(":")[2]
        for item in filter(None, (s.strip() for s in body.split(","))):
            key, eq, raw = item.partition("=")
            key = {"bytes": "n_bytes"}.get(key.strip(), key.strip())
            if not eq or key not in ("vocab", "branch", "seed", "n_bytes"):
                raise ConfigError(f"corpus {spec!r}: expected keys vocab, branch, seed, bytes as key=value, got {item!r}")
            try:
                kw[key] = int(raw)
            except ValueError:
                raise ConfigError(f"corpus {spec!r}: {key} must be an integer, got {raw!r}") from None
        return synthetic(**kw)
    return _path_corpus(spec)


# ----------------------------------------------------------------------------- mixtures


class Mixture:
    """Data mixture schedule: ``phases = [(start_step, {corpus_name: weight}), ...]``.

    The first phase must start at step 0; weights are normalised per phase.
    """

    def __init__(self, phases: Sequence[tuple[int, Mapping[str, float]]], names: Sequence[str]):
        phases = sorted(((int(s), dict(w)) for s, w in phases), key=lambda p: p[0])
        if not phases or phases[0][0] != 0:
            raise ConfigError("mixture: the first phase must start at step 0")
        if len({s for s, _ in phases}) != len(phases):
            raise ConfigError("mixture: two phases start at the same step")
        self.names = list(names)
        self.starts = [s for s, _ in phases]
        self.weights = []
        for start, w in phases:
            unknown = sorted(set(w) - set(self.names))
            if unknown:
                raise ConfigError(f"mixture phase at step {start}: unknown corpus {unknown[0]!r}; corpora: {', '.join(self.names)}")
            vec = np.array([float(w.get(n, 0.0)) for n in self.names])
            if np.any(vec < 0) or not np.isfinite(vec).all() or vec.sum() <= 0:
                raise ConfigError(f"mixture phase at step {start}: weights must be >= 0 with a positive sum")
            self.weights.append(torch.tensor(vec / vec.sum(), dtype=torch.float64))

    def at(self, step: int) -> torch.Tensor:
        """Normalised corpus weights in effect at ``step``."""
        i = int(np.searchsorted(self.starts, step, side="right")) - 1
        return self.weights[i]


# ----------------------------------------------------------------------------- sampling


def _windows(data: torch.Tensor, starts: torch.Tensor, length: int) -> torch.Tensor:
    return data[starts.unsqueeze(1) + torch.arange(length)]


def _as_tokens(seq) -> torch.Tensor:
    if isinstance(seq, str):
        seq = seq.encode()
    if isinstance(seq, (bytes, bytearray)):
        return torch.frombuffer(bytearray(seq), dtype=torch.uint8).long()
    return torch.as_tensor(np.asarray(seq), dtype=torch.long)


Injections = Callable[[int], Sequence] | Mapping[int, Sequence] | None


class BatchSampler:
    """Random training windows from one or several corpora (see module docstring).

    ``next(step)`` returns ``(x, y)`` int64 tensors of shape ``(batch_size, block_size)``; targets
    of injected sequences past their end are ``-1`` (ignored by the loss).
    """

    def __init__(self, corpora: Mapping[str, Corpus], block_size: int, batch_size: int, seed: int,
                 mixture: Mixture | None = None, injections: Injections = None):
        self.names = list(corpora)
        self.data = [torch.from_numpy(corpora[n].train.copy()).long() for n in self.names]
        for n, d in zip(self.names, self.data):
            if len(d) < block_size + 2:
                raise ConfigError(f"corpus {n!r}: train split has {len(d)} bytes, fewer than block_size+2={block_size + 2}")
        self.block_size, self.batch_size = block_size, batch_size
        self.mixture = mixture
        self.injections = injections
        self.generator = torch.Generator().manual_seed(int(seed))
        self.drawn = 0

    def _injected(self, step: int) -> list:
        inj = self.injections
        if inj is None:
            return []
        seqs = inj(step) if callable(inj) else inj.get(step, [])
        return list(seqs or [])

    def next(self, step: int, inject: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        B, L = self.batch_size, self.block_size + 1
        g = self.generator
        if len(self.data) == 1:
            src = torch.zeros(B, dtype=torch.long)
        else:
            w = self.mixture.at(step) if self.mixture else torch.full((len(self.data),), 1.0 / len(self.data), dtype=torch.float64)
            src = torch.multinomial(w, B, replacement=True, generator=g)
        batch = torch.empty(B, L, dtype=torch.long)
        for i, d in enumerate(self.data):
            rows = (src == i).nonzero().flatten()
            if len(rows):
                starts = torch.randint(0, len(d) - L + 1, (len(rows),), generator=g)
                batch[rows] = _windows(d, starts, L)
        x, y = batch[:, :-1].clone(), batch[:, 1:].clone()
        for row, seq in enumerate(self._injected(step)[:B] if inject else []):
            t = _as_tokens(seq)[:L]
            n = len(t)
            if n < 2:
                raise ConfigError(f"injection at step {step}: a sequence needs at least 2 tokens")
            x[row, : n - 1] = t[:-1]
            y[row, : n - 1] = t[1:]
            y[row, n - 1:] = -1
        self.drawn += 1
        return x, y

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "drawn": self.drawn}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.drawn = int(state["drawn"])


def eval_batches(corpus: Corpus, block_size: int, batch_size: int, n_batches: int, seed: int = 1234) -> list:
    """A fixed list of ``n_batches`` (x, y) validation batches from ``corpus.val`` (same for every
    run with the same block size, whatever its training seed)."""
    d = torch.from_numpy(corpus.val.copy()).long()
    L = block_size + 1
    if len(d) < L + 1:
        raise ConfigError(f"corpus {corpus.name!r}: val split has {len(d)} bytes, fewer than block_size+2={block_size + 2}")
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        w = _windows(d, torch.randint(0, len(d) - L + 1, (batch_size,), generator=g), L)
        out.append((w[:, :-1].contiguous(), w[:, 1:].contiguous()))
    return out

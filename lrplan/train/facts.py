"""Fact injection and probing on the built-in trainer (a small-scale replica of Chang et al. 2024,
"How Do Large Language Models Acquire Factual Knowledge During Pretraining?", arXiv:2406.11813).

Facts come from the Fictional Knowledge dataset (Chang et al. 2024,
github.com/kaistAI/factual-knowledge-acquisition, Apache-2.0; not shipped with lrplan: pass the
folder holding ``fictional_knowledge.json`` and ``fictional_knowledge_paraphrased.json``).

The byte-level trainer has a context of ``block_size`` tokens (64 for ``nano``), so a fact is one
window of at most ``block_size + 1`` bytes that ends with a probe's target span: the last bytes of
``mem_input + " " + mem_target``. The probe is the log-probability (nats, summed over the target's
bytes) of the target given the bytes before it in that window. Scenarios (paper Appendix D):

* ``once``: the window is injected once;
* ``duplicated``: the same window is injected ``times`` times, every ``every`` steps;
* ``paraphrased``: each injection uses another wording: windows cut from the dataset's paraphrases
  at the target (falling back to the semantic probe ``gen_input``), the probe stays the original;
* ``control``: never injected, only probed (for the drift correction of
  :func:`lrplan.forgetting.drift_corrected`).

An injected window replaces one row of that step's batch (:class:`lrplan.train.data.BatchSampler`
``injections``). :class:`ProbeLogger` scores every probe every ``every`` steps after the update
and writes ``probes.csv`` (``probe, passage, scenario, step, logprob``) and ``exposures.csv``
(``passage, step``) into the run folder: the inputs of :func:`lrplan.forgetting.retention_report`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from lrplan import _io
from lrplan.errors import ConfigError, LoadError

SCENARIOS = ("once", "duplicated", "paraphrased")
CONTROL = "control"  # probed, never injected: measures the general drift of log-probabilities


@dataclass
class Fact:
    """One injectable fact: exposure windows (bytes) and the probe (context, target)."""

    name: str
    passage: str
    scenario: str
    context: bytes
    target: bytes
    versions: list[bytes] = field(default_factory=list)  # what is injected, cycled over exposures


def load_records(folder: str | Path) -> list[dict]:
    """Records of the Fictional Knowledge dataset (the paraphrased file when present)."""
    folder = Path(folder)
    for name in ("fictional_knowledge_paraphrased.json", "fictional_knowledge.json"):
        path = folder / name
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise LoadError(f"{path}: not valid JSON ({e.msg})") from None
            if not isinstance(data, list) or not data or "mem_input" not in data[0]:
                raise LoadError(f"{path}: not a Fictional Knowledge record list")
            return data
    raise LoadError(f"{folder}: no fictional_knowledge.json (the Fictional Knowledge dataset folder)")


def _window(prefix: str, target: str, size: int) -> tuple[bytes, bytes] | None:
    t = target.encode()
    if len(t) >= size - 8:
        return None
    ctx = prefix.encode()[-(size - len(t)):]
    return ctx, t


def build_facts(records: Sequence[dict], block_size: int, scenarios: Mapping[str, Sequence[int]],
                probes_per_record: int = 1) -> list[Fact]:
    """Facts for the record indices of each scenario (``{"once": range(80, 88), ...}``)."""
    size = block_size + 1
    facts = []
    for scenario, idx in scenarios.items():
        if scenario not in SCENARIOS + (CONTROL,):
            raise ConfigError(f"fact scenario {scenario!r}: choose one of {', '.join(SCENARIOS + (CONTROL,))}")
        for i in idx:
            if not 0 <= i < len(records):
                raise ConfigError(f"fact record {i} is outside the dataset (0..{len(records) - 1})")
            rec = records[i]
            made = 0
            for j, (inp, tgt) in enumerate(zip(rec["mem_input"], rec["mem_target"])):
                if made >= probes_per_record:
                    break
                w = _window(inp + " ", tgt, size)
                if w is None:
                    continue
                versions = [w[0] + w[1]]
                if scenario == "paraphrased":
                    for para in rec.get("paraphrases") or []:
                        k = para.find(tgt)
                        if k > 0:
                            pw = _window(para[:k], tgt, size)
                            if pw:
                                versions.append(pw[0] + pw[1])
                    g = _window(rec["gen_input"][j] + " ", rec["gen_target"][j], size) if j < len(rec.get("gen_input", [])) else None
                    if len(versions) < 2 and g:
                        versions.append(g[0] + g[1])
                facts.append(Fact(f"r{i}-m{j}", f"r{i}", scenario, w[0], w[1], versions))
                made += 1
    if not facts:
        raise ConfigError("build_facts: no record gave a fact that fits the context window")
    return facts


def exposure_plan(facts: Sequence[Fact], first: int = 100, every: int = 100, times: int = 10,
                  per_step: int = 8) -> tuple[dict[int, list[bytes]], pd.DataFrame]:
    """Injections ``{step: [window, ...]}`` and the exposure table (``passage, step``).

    Exposure e of a fact is at ``first + offset + e * every``; facts are put in slots of
    ``per_step`` (at most ``per_step`` injected rows per batch), slot j offset by
    ``j * every // slots`` steps. ``once`` facts get one exposure, ``control`` facts none, the
    others ``times``.
    """
    if per_step < 1 or every < 1 or times < 1 or first < 1:
        raise ConfigError("exposure plan: first, every, times and per_step must be >= 1")
    facts = [f for f in facts if f.scenario != CONTROL]
    slots = -(-len(facts) // per_step)
    if slots > every:
        raise ConfigError(f"exposure plan: {len(facts)} facts at {per_step} per step need {slots} steps, more than every={every}")
    inj: dict[int, list[bytes]] = {}
    rows = []
    for k, f in enumerate(facts):
        n = 1 if f.scenario == "once" else times
        for e in range(n):
            step = first + (k // per_step) * (every // slots) + e * every
            inj.setdefault(step, []).append(f.versions[e % len(f.versions)])
            rows.append({"passage": f.passage, "step": step})
    return inj, pd.DataFrame(rows).drop_duplicates().reset_index(drop=True)


class ProbeLogger:
    """Trainer callback: log-probability of every fact's target every ``every`` steps."""

    def __init__(self, facts: Sequence[Fact], exposures: pd.DataFrame | None = None, every: int = 1):
        self.facts, self.every, self.exposures = list(facts), int(every), exposures
        self.rows: list[tuple] = []
        self._batch = None

    def _tensors(self, device):
        if self._batch is None:
            L = max(len(f.context) + len(f.target) for f in self.facts) - 1
            x = torch.zeros(len(self.facts), L, dtype=torch.long)
            y = torch.full((len(self.facts), L), -1, dtype=torch.long)
            for i, f in enumerate(self.facts):
                seq = torch.tensor(list(f.context + f.target), dtype=torch.long)
                n = len(seq) - 1
                x[i, :n] = seq[:-1]
                y[i, n - len(f.target): n] = seq[-len(f.target):]
            self._batch = (x.to(device), y.to(device))
        return self._batch

    @torch.no_grad()
    def score(self, model, device) -> np.ndarray:
        """Summed log-probability (nats) of each fact's target under ``model``."""
        x, y = self._tensors(device)
        was = model.training
        model.eval()
        logits, _ = model(x)
        model.train(was)
        logp = torch.log_softmax(logits.float(), dim=-1)
        mask = y >= 0
        tok = torch.gather(logp, 2, y.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        return (tok * mask).sum(dim=1).double().cpu().numpy()

    def on_step(self, trainer, step: int, loss) -> None:
        if step % self.every == 0:
            for f, lp in zip(self.facts, self.score(trainer.model, trainer.device)):
                self.rows.append((f.name, f.passage, f.scenario, int(step), float(lp)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["probe", "passage", "scenario", "step", "logprob"])

    def on_end(self, trainer) -> None:
        _io.write_csv(Path(trainer.out) / "probes.csv", self.frame(), float_format="%.6f")
        if self.exposures is not None:
            _io.write_csv(Path(trainer.out) / "exposures.csv", self.exposures)

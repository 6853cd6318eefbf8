"""lrplan.train model and data: presets, corpora, mixtures, injections, checkpointable sampling."""

import math
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from lrplan.errors import ConfigError  # noqa: E402
from lrplan.train.data import (  # noqa: E402
    BatchSampler,
    Corpus,
    Mixture,
    eval_batches,
    load_corpus,
    stdlib_files,
    synthetic,
)
from lrplan.train.model import GPT, PRESETS, model_config  # noqa: E402


@pytest.mark.parametrize("preset,params", [("nano", 120_576), ("micro", 834_304), ("small", 3_257_856)])
def test_preset_parameter_counts(preset, params):
    assert GPT(PRESETS[preset]).num_params() == params


def test_free_dimensions_override_the_preset():
    cfg = model_config("nano", n_layer=3, block_size=32)
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.block_size) == (3, 4, 64, 32)
    # 256*48 tied embedding + 16*48 positions + 1 block of 12*48^2 + 13*48 + final LN 2*48
    assert GPT(model_config(None, n_layer=1, n_head=2, n_embd=48, block_size=16)).num_params() == 41_424


@pytest.mark.parametrize("kwargs,message", [
    ({"preset": "tiny"}, "unknown preset 'tiny'; choose one of: nano, micro, small"),
    ({"preset": "nano", "n_embd": 66}, "n_embd (66) must be divisible by n_head (4)"),
    ({"preset": "nano", "n_layer": 0}, "n_layer must be a positive integer, got 0"),
    ({"preset": "nano", "width": 3}, "unknown model dimension(s) width"),
])
def test_bad_model_configs(kwargs, message):
    preset = kwargs.pop("preset")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model_config(preset, **kwargs)


def test_model_init_tied_and_loss_at_init_is_uniform():
    torch.manual_seed(0)
    model = GPT(PRESETS["nano"])
    assert model.lm_head.weight is model.wte.weight
    assert abs(float(model.wte.weight.detach().std()) - 0.02) < 0.002
    x, y = torch.randint(0, 256, (2, 4, 64))
    _, loss = model(x, y)
    assert abs(loss.item() - math.log(256)) < 0.05  # N(0, 0.02) init: near-uniform predictions
    y[:, 10:] = -1  # ignored targets
    _, partial = model(x, y)
    assert torch.isfinite(partial)


def test_synthetic_corpus_has_the_stated_entropy():
    c = synthetic(vocab=16, branch=4, seed=3, n_bytes=50_000)
    assert c.entropy == pytest.approx(math.log(4))
    assert len(c.train) == 50_000 and len(c.val) == 5_000
    pairs = set(zip(c.train[:-1].tolist(), c.train[1:].tolist()))
    assert len(pairs) == 16 * 4  # every symbol has exactly 4 successors, all of them seen
    assert set(np.unique(c.train)) <= set(range(16))
    again = load_corpus("synthetic:vocab=16,branch=4,seed=3,bytes=50000")
    assert np.array_equal(again.train, c.train)


def test_stdlib_corpus_excludes_tests_and_splits_by_file():
    files = stdlib_files()
    assert len(files) > 300
    assert not any(part in ("test", "tests", "idlelib", "site-packages") for p in files for part in p.parts[-3:-1])
    c = load_corpus("stdlib")
    assert 0.05 < len(c.val) / (len(c.train) + len(c.val)) < 0.2
    val_files = [p for p in files if zlib.crc32(str(p.relative_to(_stdlib_root())).encode()) % 10 == 0]
    assert val_files and len(val_files) < len(files) / 5


def _stdlib_root():
    import sysconfig
    from pathlib import Path

    return Path(sysconfig.get_paths()["stdlib"])


def test_text_file_and_folder_corpora(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"abcdefghij" * 100)
    c = load_corpus(str(f))
    assert len(c.train) == 900 and len(c.val) == 100
    d = tmp_path / "docs"
    d.mkdir()
    for i in range(12):
        (d / f"f{i}.txt").write_text(f"file {i} " * 50)
    (d / "blob.bin").write_bytes(b"\x00\x01" * 10)
    (d / ".hidden").write_text("secret")
    c = load_corpus(str(d))
    assert b"secret" not in c.train.tobytes() + c.val.tobytes()
    assert len(c.train) > 0 and len(c.val) > 0
    with pytest.raises(ConfigError, match="not 'stdlib', 'synthetic"):
        load_corpus(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="expected keys vocab, branch, seed, bytes"):
        load_corpus("synthetic:branches=3")


def _two_corpora():
    a = Corpus("A", np.full(5000, ord("a"), dtype=np.uint8), np.full(500, ord("a"), dtype=np.uint8))
    b = Corpus("B", np.full(5000, ord("b"), dtype=np.uint8), np.full(500, ord("b"), dtype=np.uint8))
    return {"A": a, "B": b}


def test_mixture_schedule_switches_corpus_with_replay():
    mix = Mixture([(0, {"A": 1}), (100, {"B": 0.75, "A": 0.25})], ["A", "B"])
    s = BatchSampler(_two_corpora(), block_size=8, batch_size=400, seed=0, mixture=mix)
    x, _ = s.next(99)
    assert (x == ord("a")).all()
    x, _ = s.next(100)
    share_a = float((x[:, 0] == ord("a")).float().mean())
    assert 0.18 < share_a < 0.32
    with pytest.raises(ConfigError, match="first phase must start at step 0"):
        Mixture([(5, {"A": 1})], ["A", "B"])
    with pytest.raises(ConfigError, match="unknown corpus 'C'"):
        Mixture([(0, {"C": 1})], ["A", "B"])


def test_injected_sequences_replace_rows_and_mask_the_rest():
    inj = {3: [b"fact: x=1", "ok"]}
    s = BatchSampler(_two_corpora(), block_size=16, batch_size=4, seed=0, injections=inj)
    x, y = s.next(3)
    assert bytes(x[0, :8].tolist()) == b"fact: x="
    assert bytes(y[0, :8].tolist()) == b"act: x=1"
    assert (y[0, 8:] == -1).all()
    assert bytes(x[1, :1].tolist()) == b"o" and y[1, 0] == ord("k") and (y[1, 1:] == -1).all()
    assert (y[2] >= 0).all()
    x2, y2 = s.next(4)
    assert (y2 >= 0).all()


def test_sampler_state_round_trip_gives_identical_batches():
    corp = {"S": synthetic(n_bytes=10_000)}
    s = BatchSampler(corp, block_size=16, batch_size=8, seed=7)
    s.next(0)
    state = s.state_dict()
    want = [s.next(i)[0] for i in (1, 2)]
    t = BatchSampler(corp, block_size=16, batch_size=8, seed=99)
    t.load_state_dict(state)
    got = [t.next(i)[0] for i in (1, 2)]
    assert all(torch.equal(a, b) for a, b in zip(want, got))
    assert t.drawn == 3


def test_eval_batches_are_fixed_whatever_the_training_seed():
    c = synthetic(n_bytes=10_000)
    a = eval_batches(c, 16, 8, 3)
    b = eval_batches(c, 16, 8, 3)
    assert len(a) == 3 and all(torch.equal(p[0], q[0]) for p, q in zip(a, b))
    assert torch.equal(a[0][0][:, 1:], a[0][1][:, :-1])  # targets are the inputs shifted by one


@settings(max_examples=10, deadline=None)
@given(vocab=st.integers(2, 256), data=st.data(), seed=st.integers(0, 2**31), n=st.integers(100, 400))
def test_synthetic_spec_parses_every_valid_key_combination(vocab, data, seed, n):
    branch = data.draw(st.integers(1, vocab))
    c = load_corpus(f"synthetic:vocab={vocab}, branch={branch},seed={seed},bytes={n}")
    assert c.entropy == pytest.approx(math.log(branch)) and len(c.train) == n
    assert int(c.train.max()) < vocab

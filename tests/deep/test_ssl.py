"""Self-supervised (SimCLR) pretraining on the training images: loss, views, cache, use."""

import numpy as np
import pytest

from benchmark.errors import ConfigError
from deep.method import DeepMethod
from deep.ssl import nt_xent, two_views

QUICK = {"epochs": 1, "batch_size": 16, "augment": []}
SSL = {"epochs": 2, "batch_size": 8, "projection": 16}


def _reference_nt_xent(za, zb, t):
    z = np.concatenate([za, zb])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    logits = z @ z.T / t
    np.fill_diagonal(logits, -np.inf)
    n = len(za)
    pos = np.concatenate([np.arange(n) + n, np.arange(n)])
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ce = -logp[np.arange(2 * n), pos]
    return (ce[:n] + ce[n:]) / 2


def test_nt_xent_matches_the_formula_and_rewards_matching_views():
    from keras import ops

    rng = np.random.default_rng(0)
    za, zb = rng.normal(size=(2, 6, 5)).astype(np.float32)
    loss = nt_xent(0.5)
    got = ops.convert_to_numpy(loss(np.zeros(6), np.concatenate([za, zb], axis=1)))
    np.testing.assert_allclose(got, _reference_nt_xent(za, zb, 0.5), rtol=1e-4)
    # two identical views of orthogonal embeddings: each view finds its partner
    eye = np.eye(6, dtype=np.float32)
    pairs = np.concatenate([eye, eye], axis=1)
    matched = ops.convert_to_numpy(nt_xent(0.05)(np.zeros(6), pairs))
    assert matched.max() < 1e-3
    # at t = 0.5: -log(e^2 / (e^2 + 10)), 10 negatives at cosine 0
    np.testing.assert_allclose(
        ops.convert_to_numpy(loss(np.zeros(6), pairs)), np.log1p(10 / np.e**2), rtol=1e-5
    )


def test_two_views_are_random_astronomical_transforms_of_each_image():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 16, 16, 2)).astype(np.float32)
    a, b = two_views(x, np.random.default_rng(2), channel_std=[1.0, 1.0])
    assert a.shape == b.shape == x.shape and a.dtype == np.float32
    assert not np.allclose(a, b)
    again = two_views(x, np.random.default_rng(2), channel_std=[1.0, 1.0])
    np.testing.assert_array_equal(again[0], a)  # seeded: a run repeats
    # a view keeps its image's flux to within the flux scale and the noise
    assert np.allclose(a.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=0.5)


def test_views_use_only_the_transforms_named():
    from deep.augment import d4_numpy

    x = np.random.default_rng(1).normal(size=(6, 8, 8, 1)).astype(np.float32)
    a, b = two_views(x, np.random.default_rng(3), channel_std=[1.0], views=("d4",))
    for view in (a, b):
        for i in range(len(x)):  # each view is one of the 8 D4 images of its own image
            assert any(np.array_equal(view[i], d4_numpy(x[i : i + 1], k)[0]) for k in range(8))
    flux, _ = two_views(x, np.random.default_rng(3), channel_std=[1.0], views=("flux",))
    ratio = flux / x
    assert np.allclose(ratio, ratio[:, :1, :1], rtol=1e-5)  # one scale per image
    assert ((ratio[:, 0, 0] >= 0.8) & (ratio[:, 0, 0] <= 1.25)).all()


def test_self_supervised_pretraining_uses_the_training_images_only(
    blobs, tmp_path, monkeypatch, reuses_pretraining
):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    import deep.ssl as ssl

    x, y = blobs
    seen = []
    original = ssl._digest

    def spy(images):
        seen.append(np.asarray(images[:]).copy())
        return original(images)

    monkeypatch.setattr(ssl, "_digest", spy)
    params = {**QUICK, "pretrain": "self", "pretrain_params": SSL}
    method = DeepMethod("simple-cnn", params, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], x[:40])  # never the validation images
    cached = list((tmp_path / "cache" / "pretrained").glob("simple-cnn-self-*.keras"))
    assert len(cached) == 1
    copied = method.summary()["pretrained_layers"]
    assert copied and "output" not in copied and "normalize" not in copied

    # cached: a second run reuses it and repeats exactly; from scratch differs
    reuses_pretraining(method, params, QUICK, cached[0], x, y)
    # other training images: another pretraining
    DeepMethod("simple-cnn", params, seed=0).fit(x[8:48], y[8:48], x[48:], y[48:])
    assert len(list((tmp_path / "cache" / "pretrained").glob("simple-cnn-self-*"))) == 2


def test_unlabelled_images_join_the_pretraining(blobs, tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    import deep.ssl as ssl

    x, y = blobs
    extra = tmp_path / "extra.npy"
    np.save(extra, np.random.default_rng(5).normal(size=(24, 16, 16, 3)).astype(np.float32))
    sizes = []
    original = ssl._digest
    monkeypatch.setattr(
        ssl, "_digest", lambda images: sizes.append(len(images)) or original(images)
    )
    params = {**QUICK, "pretrain": "self", "pretrain_params": {**SSL, "unlabelled": str(extra)}}
    DeepMethod("simple-cnn", params).fit(x[:40], y[:40], x[40:], y[40:])
    assert sizes == [64]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pretrain": "self", "pretrain_params": {"n": 10}}, "unknown pretrain_params key 'n'"),
        ({"pretrain": "self", "pretrain_params": {"epochs": 0}}, "epochs must be a positive"),
        ({"pretrain": "self", "pretrain_params": {"temperature": -1}}, "temperature must be"),
        ({"pretrain": "self", "pretrain_params": {"views": ["zoom"]}}, "views must be a list from"),
        (
            {"pretrain": "self", "pretrain_params": {"unlabelled": "/no/such/dir"}},
            "no such path",
        ),
    ],
)
def test_bad_self_supervised_settings_are_one_line_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        DeepMethod("simple-cnn", {**QUICK, **params}).settings()


def test_too_few_training_images_for_contrastive_batches(blobs, tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    x, y = blobs
    params = {**QUICK, "pretrain": "self", "pretrain_params": SSL}
    with pytest.raises(ConfigError, match="at least 16 training images"):
        DeepMethod("simple-cnn", params).fit(x[:10], y[:10], x[40:], y[40:])


def test_a_corrupt_unlabelled_array_is_a_one_line_error(tmp_path):
    from deep.ssl import _unlabelled

    bad = tmp_path / "extra.npy"
    bad.write_bytes(b"not numpy")
    with pytest.raises(ConfigError, match="not a readable .npy array"):
        _unlabelled(str(bad), (16, 16, 3), {})

"""The methods made of trained CNNs: ensembles and CNN + hand-crafted feature hybrids."""

import numpy as np
import pytest

from benchmark import methods
from benchmark.errors import ConfigError, ShapeMismatchError
from deep.combined import SEED_STRIDE, EnsembleMethod, HybridMethod, embed
from deep.method import DeepMethod

#: one quick epoch of a small CNN that takes 16x16 stamps
QUICK = {"epochs": 1, "batch_size": 16, "augment": []}


def _split(blobs):
    x, y = blobs
    return x[:40], y[:40], x[40:], y[40:]


def test_ensemble_averages_its_seeded_members_and_resumes(blobs, tmp_path, monkeypatch):
    x_tr, y_tr, x_va, y_va = _split(blobs)
    params = {"architectures": ["simple-cnn", "galaxy-cnn"], "n_seeds": 2, **QUICK}
    work = tmp_path / "work"
    method = methods.create("cnn-ensemble", params, seed=3, work_dir=str(work))
    assert isinstance(method, EnsembleMethod)
    method.fit(x_tr, y_tr, x_va, y_va)
    got = [(m.name, m.seed) for m in method.members_]
    assert got == [
        ("simple-cnn", 3),
        ("simple-cnn", 3 + SEED_STRIDE),
        ("galaxy-cnn", 3),
        ("galaxy-cnn", 3 + SEED_STRIDE),
    ]
    assert all(m.settings_.tta for m in method.members_)  # D4 averaging by default
    proba = method.predict_proba(x_va)
    mean = np.mean([m.predict_proba(x_va) for m in method.members_], axis=0)
    np.testing.assert_allclose(proba, mean, rtol=1e-6)
    summary = method.summary()
    assert len(summary["members"]) == 4 and summary["n_parameters"] > 0
    assert summary["method_params"]["members"][1] == ["simple-cnn", 3 + SEED_STRIDE]

    # an interrupted run that resumes loads the members that finished
    def no_training(self, *args, **kwargs):
        raise AssertionError("a finished member was trained again")

    monkeypatch.setattr(DeepMethod, "fit", no_training)
    again = methods.create("cnn-ensemble", params, seed=3, work_dir=str(work)).fit(
        x_tr, y_tr, x_va, y_va
    )
    np.testing.assert_allclose(again.predict_proba(x_va), proba, atol=1e-5)
    assert len(again.summary()["history"]) == 1  # the history came back with the member

    method.save(tmp_path / "model")
    loaded = methods.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(x_va), proba, atol=1e-5)
    with pytest.raises(ShapeMismatchError, match="trained on"):
        loaded.predict_proba(x_va[:, :8, :8])


def test_hybrid_joins_the_embedding_and_features_in_a_tuned_head(blobs, tmp_path):
    x_tr, y_tr, x_va, y_va = _split(blobs)
    params = {
        "backbone": "simple-cnn",
        "features": ["handcrafted", "trivial"],
        "head": "logreg",
        **QUICK,
    }
    method = methods.create("hybrid", params, seed=0, n_candidates=2)
    assert isinstance(method, HybridMethod)
    method.validate(n_train=40, n_classes=2, input_shape=x_tr.shape[1:])
    method.fit(x_tr, y_tr, x_va, y_va)
    n_embed = embed(method.backbone_, x_tr[:2]).shape[1]
    names = method.feature_names_
    assert names[:n_embed] == [f"cnn_{i}" for i in range(n_embed)]
    extra = [str(n) for e in method.extractors_ for n in e.get_feature_names_out()]
    assert names[n_embed:] == extra and len(extra) > 0
    assert method.head_.n_features_in_ == len(names)
    summary = method.summary()
    # the head's defaults and its seeded candidates, tried on the validation part
    assert len(summary["tuning"]) == len(method.head_.candidates(40)) > 1
    shares = summary["importance_shares"]
    assert set(shares) == {"cnn embedding", "handcrafted", "trivial"}
    assert sum(shares.values()) == pytest.approx(1.0)
    proba = method.predict_proba(x_va)
    assert proba.shape == (len(y_va), 2)
    method.save(tmp_path / "model")
    loaded = methods.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(x_va), proba, atol=1e-5)


def test_embedding_is_d4_invariant_with_tta(blobs):
    x_tr, y_tr, x_va, y_va = _split(blobs)
    cnn = DeepMethod("simple-cnn", {**QUICK, "tta": True}).fit(x_tr, y_tr, x_va, y_va)
    rotated = np.ascontiguousarray(np.rot90(x_va, 1, axes=(1, 2)))
    np.testing.assert_allclose(embed(cnn, rotated), embed(cnn, x_va), rtol=1e-4, atol=1e-4)
    assert not np.allclose(embed(cnn, rotated, tta=False), embed(cnn, x_va, tta=False))


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("hybrid", {"backbone": "no-such-cnn"}, "not a registered CNN"),
        ("hybrid", {"head": "galaxy-cnn"}, "not a classical method"),
        ("hybrid", {"features": ["hog"]}, "unknown feature set 'hog'"),
        ("hybrid", {"feature_params": {"pca": {}}}, "feature_params must map"),
        ("hybrid", {"epoch": 3}, "unknown parameter 'epoch'"),
        ("hybrid", {"backbone_seeds": 0}, "backbone_seeds must be a positive integer"),
        ("cnn-ensemble", {"n_seeds": 0}, "n_seeds must be a positive integer"),
        ("cnn-ensemble", {"architectures": ["rf"]}, "not a registered CNN"),
    ],
)
def test_bad_parameters_are_one_line_errors(name, params, message):
    method = methods.create(name, params)
    with pytest.raises(ConfigError, match=message):
        method.validate(n_train=40, n_classes=2, input_shape=(16, 16, 3))


def test_experiment_files_check_combined_parameters(tmp_path):
    from benchmark.config import load_experiment

    def config(params):
        path = tmp_path / "exp.toml"
        path.write_text(
            'name = "x"\n[dataset]\nsource = "sim-sdss-sn"\n[features]\ntrivial = {}\n'
            f"[methods]\nhybrid = {{ {params} }}\n",
            encoding="utf-8",
        )
        return load_experiment(path)

    assert config('head = "rf", features = [], epochs = 2').methods["hybrid"]["head"] == "rf"
    with pytest.raises(ConfigError, match="not a classical method"):
        config('head = "simple-cnn"')
    with pytest.raises(ConfigError, match="unknown parameter 'epoch'"):
        config("epoch = 2")
    with pytest.raises(ConfigError, match="n_estimatorz"):
        config('head = "rf", head_params = { n_estimatorz = 3 }')


def test_a_cnn_trained_for_one_run_is_reused_by_another_in_the_experiment(blobs, tmp_path):
    """The runner's shared folder: the same CNN (settings, seed, class treatment, data) as
    a hybrid's backbone and an ensemble's first member is loaded, not trained again;
    another seed, other settings or other training images train their own."""
    x_tr, y_tr, x_va, y_va = _split(blobs)
    shared = str(tmp_path / "work" / "_shared")

    def create(name, params, seed=0):
        method = methods.create(name, params, seed=seed, class_weight="balanced")
        method.share_dir = shared
        return method

    cnn = create("simple-cnn", {**QUICK, "tta": True}).fit(x_tr, y_tr, x_va, y_va)
    assert cnn.summary()["fit_shared"] is False
    hybrid = create("hybrid", {"backbone": "simple-cnn", **QUICK}).fit(x_tr, y_tr, x_va, y_va)
    assert hybrid.backbone_.fit_shared_ is True
    np.testing.assert_allclose(
        hybrid.backbone_.predict_proba(x_va), cnn.predict_proba(x_va), rtol=1e-6
    )
    assert hybrid.summary()["history"] == cnn.summary()["history"]
    ensemble = create("cnn-ensemble", {"architectures": ["simple-cnn"], "n_seeds": 2, **QUICK})
    ensemble.fit(x_tr, y_tr, x_va, y_va)
    assert [m.fit_shared_ for m in ensemble.members_] == [True, False]
    # a hybrid on two backbones joins both embeddings: the ensemble's members, not retrained
    two = create("hybrid", {"backbone": "simple-cnn", "backbone_seeds": 2, **QUICK})
    two.fit(x_tr, y_tr, x_va, y_va)
    assert [(b.seed, b.fit_shared_) for b in two.backbones_] == [(0, True), (SEED_STRIDE, True)]
    n_embed = embed(cnn, x_tr[:1]).shape[1]
    assert two.feature_names_[n_embed] == "cnn_1_0" and two.head_.n_features_in_ == len(
        two.feature_names_
    )
    assert two.feature_names_.count("cnn_1_0") == 1 and len(two.summary()["members"]) == 2
    two.save(tmp_path / "two")
    np.testing.assert_allclose(
        methods.load(tmp_path / "two").predict_proba(x_va), two.predict_proba(x_va), atol=1e-5
    )
    # what differs is trained afresh: another seed, learning rate or training subset
    assert not create("simple-cnn", QUICK, seed=1).fit(x_tr, y_tr, x_va, y_va).fit_shared_
    other = {**QUICK, "learning_rate": 0.05}
    assert not create("simple-cnn", other).fit(x_tr, y_tr, x_va, y_va).fit_shared_
    assert not create("simple-cnn", QUICK).fit(x_tr[:30], y_tr[:30], x_va, y_va).fit_shared_
    # and without a shared folder nothing is kept
    plain = methods.create("simple-cnn", QUICK, class_weight="balanced")
    assert not plain.fit(x_tr, y_tr, x_va, y_va).fit_shared_

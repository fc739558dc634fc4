"""One contract, checked for every registered method, feature set and loader.

Parametrised from the registries: a new plug-in is covered without editing this file.
"""

import numpy as np
import pytest

import features
from benchmark import datasets, methods
from benchmark.errors import AstrobenchError, MissingPathError, ShapeMismatchError

_HEAVY = {n for n in methods.available() if methods.spec(n).get("heavy")}
METHODS = [
    pytest.param(n, marks=pytest.mark.slow) if n in _HEAVY else n for n in methods.available()
]
#: Tiny settings every CNN accepts: one quick epoch
_DEEP = {"epochs": 1, "batch_size": 8, "augment": []}


def _problem(kind: str, n_classes: int):
    rng = np.random.default_rng(0)
    y = np.arange(48) % n_classes
    if kind == "images":
        # 48 pixels: the deepest registered CNN (negm2021-refined) needs 46
        x = rng.normal(size=(48, 48, 48, 3)).astype(np.float32)
        x[:, 20:28, 20:28, :] += y[:, None, None, None]
    else:
        x = rng.normal(size=(48, 5)).astype(np.float32) + y[:, None]
    return x[:32], y[:32], x[32:], y[32:]


@pytest.mark.parametrize("name", METHODS)
def test_method_contract(name, tmp_path):
    spec = methods.spec(name)
    if spec["kind"] == "deep":
        pytest.importorskip("keras")
    params = dict(_DEEP) if spec["kind"] == "deep" else {}
    n_classes = 2 if spec["kind"] == "deep" else 3
    x_tr, y_tr, x_va, y_va = _problem(spec["input"], n_classes)
    method = methods.create(name, params, seed=1)
    assert method.get_params()["params"] == params and method.input == spec["input"]
    assert not hasattr(method, "classes_")  # __init__ only stores its arguments
    method.validate(n_train=len(y_tr), n_classes=n_classes, input_shape=x_tr.shape[1:])
    assert method.fit(x_tr, y_tr, x_va, y_va) is method
    assert list(method.classes_) == list(range(n_classes))
    proba = method.predict_proba(x_va)
    assert proba.shape == (len(y_va), n_classes) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(method.predict(x_va)) <= set(range(n_classes))
    assert "method_params" in method.summary()
    method.save(tmp_path / "model")
    again = methods.load(tmp_path / "model")
    np.testing.assert_allclose(again.predict_proba(x_va), proba, atol=1e-5)
    wrong = x_va[..., :-1]  # one feature, or one channel, fewer
    with pytest.raises(ShapeMismatchError):
        method.predict_proba(wrong)


def test_method_names_are_unique_across_kinds():
    kinds = {methods.spec(n)["kind"] for n in methods.available()}
    assert kinds == {"classical", "deep"}  # one registry holds both
    for name in methods.available():
        assert methods.spec(name)["input"] in methods.INPUTS


@pytest.mark.parametrize("name", features.available())
def test_feature_set_contract(name):
    if name == "morphology":
        pytest.importorskip("statmorph")  # an optional extra: astrobench[morphology]
    rng = np.random.default_rng(0)
    images = rng.normal(size=(40, 21, 21, 3)).astype(np.float32)
    params = {"n_components": 5} if "pca" in name else {}
    extractor = features.get(name, **params)
    features.validate(name, params, image_shape=images.shape[1:], n_train=30)
    assert extractor.fit(images[:30]) is extractor
    out = extractor.transform(images[30:])
    names = extractor.get_feature_names_out()
    assert out.dtype == np.float32 and out.shape == (10, len(names)) and np.isfinite(out).all()
    with pytest.raises(ShapeMismatchError):
        extractor.transform(images[:, :20, :20])
    with pytest.raises(ShapeMismatchError):
        features.get(name, **params).fit(images[0])


@pytest.mark.parametrize("name", datasets.available_loaders())
def test_loader_contract(name, tmp_path):
    entry = datasets.LOADERS.spec(name)
    sniff = datasets.LOADERS.resolve(name, "sniff")
    path = datasets.LOADERS.resolve(name, "example")(tmp_path / entry["example_name"])
    ds = datasets.load(path, loader=name, progress=False, **entry.get("example_params", {}))
    assert len(ds) > 0 and ds.images.ndim == 4 and ds.is_labelled and len(ds.classes) >= 2
    assert sniff(path) is (name != "catalog")  # a catalogue is chosen by name only
    if name != "catalog":
        assert datasets.detect(path) == name
    (tmp_path / "notes.txt").write_text("not data")
    assert sniff(tmp_path / "notes.txt") is False and sniff(tmp_path / "missing") is False
    with pytest.raises(MissingPathError):
        datasets.load(tmp_path / "missing", loader=name, **entry.get("example_params", {}))


def test_errors_are_one_line_astrobench_errors():
    with pytest.raises(AstrobenchError, match="valid names"):
        methods.spec("no-such-method")

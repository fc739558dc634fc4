"""Methods built from trained CNNs: seed/architecture ensembles and CNN + feature hybrids.

:class:`EnsembleMethod` trains several registered CNNs (architectures and seeds) on the
same training part and averages their class probabilities, each with test-time D4
averaging.  :class:`HybridMethod` trains one CNN, then feeds its embedding (the output of
the ``features`` layer every registered architecture ends with), concatenated with
hand-crafted feature sets fitted on the training images, to a registered classical
method that is fitted on the training part and tuned on the validation part.

Both take every image-method parameter the runner gives (seed, class treatment, work
folder) and hand their members' training settings on unchanged, so they enter every
table under the same split and the same treatment of class imbalance as the rest.  A
member that finished is saved in the work folder and loaded again when an interrupted
run resumes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from benchmark._io import atomic_path, read_json, write_json
from benchmark.errors import ConfigError, MissingPathError, ShapeMismatchError
from benchmark.methods import Method

__all__ = ["EnsembleMethod", "HybridMethod", "embed"]

log = logging.getLogger(__name__)

#: Seeds of the members of an ensemble: ``seed + SEED_STRIDE * i``.
SEED_STRIDE = 1000


def _architectures() -> list[str]:
    from . import available

    return available()


def _check_architecture(name, where: str) -> str:
    if not isinstance(name, str) or name not in _architectures():
        msg = (
            f"{where}: {name!r} is not a registered CNN; valid names: {', '.join(_architectures())}"
        )
        raise ConfigError(msg)
    return name


def _member(name, params, seed, owner: Method, work=None):
    from .method import DeepMethod

    member = DeepMethod(
        name,
        params,
        seed=seed,
        class_weight=owner.class_weight,
        work_dir=None if work is None else str(work),
        progress=owner.progress,
    )
    member.share_dir = getattr(owner, "share_dir", None)  # the experiment's shared fits
    member.class_names = getattr(owner, "class_names", None)  # for pretraining mode "auto"
    return member


def _fit_member(member, folder: Path | None, x_train, y_train, x_val, y_val):
    """Fit ``member``, or load it from ``folder/fitted`` where an earlier attempt finished."""
    from .method import DeepMethod

    if folder is not None:
        fitted = folder / "fitted"
        if (fitted / "method.json").is_file():
            meta = read_json(fitted / "method.json", what="finished ensemble member")
            if meta.get("params") == member.params and meta.get("seed") == member.seed:
                log.info("%s seed %d: finished earlier, loaded", member.name, member.seed)
                loaded = DeepMethod.load(fitted)
                loaded.history_ = meta.get("history", [])
                return loaded
        member.fit(x_train, y_train, x_val, y_val)
        member.save(fitted)
        meta = read_json(fitted / "method.json", what="finished ensemble member")
        write_json(fitted / "method.json", {**meta, "history": member.history_})
        return member
    return member.fit(x_train, y_train, x_val, y_val)


def embed(method, x, *, tta: bool | None = None, batch_size: int | None = None) -> np.ndarray:
    """The embedding of images ``x`` by a fitted CNN: its ``features`` layer's output.

    With ``tta`` (the method's own setting by default) the embedding is averaged over the
    8 D4 views of square images (4 for others), so it does not depend on orientation.
    """
    import keras

    from .data import ImageBatches
    from .method import _check_images, _inputs

    shape = _check_images(x, f"{method.name} embedding")
    if shape[1:] != method.input_shape_:
        msg = (
            f"{method.name}: the model was trained on {method.input_shape_} images, got {shape[1:]}"
        )
        raise ShapeMismatchError(msg)
    model = method.model_
    extractor = getattr(method, "_embedder", None)
    if extractor is None:
        extractor = keras.Model(model.inputs, model.get_layer("features").output)
        method._embedder = extractor
    tta = method.settings_.tta if tta is None else tta
    views = [0] if not tta else list(range(8)) if shape[1] == shape[2] else [0, 2, 4, 6]
    size = int(batch_size or method.settings_.predict_batch_size)
    total = 0.0
    for k in views:
        batches = ImageBatches(
            x, batch_size=size, view=k, pad=True, workers=method.settings_.workers
        )
        out = [
            np.asarray(extractor.predict_on_batch(_inputs(batches[i])), dtype=np.float64)
            for i in range(len(batches))
        ]
        total = total + np.concatenate(out)[: len(x)]
    return (total / len(views)).astype(np.float32)


def _deep_summary(members) -> dict:
    """History, best epoch, budget flag and size of the members (the first one's history)."""
    summaries = [m.summary() for m in members]
    first = summaries[0]
    return {
        "history": first["history"],
        "best_epoch": first["best_epoch"],
        "budget_limited": any(s["budget_limited"] for s in summaries),
        "n_parameters": int(sum(s["n_parameters"] for s in summaries)),
        "pretrained_layers": first.get("pretrained_layers", []),
        "members": [
            {
                "method": m.name,
                "seed": m.seed,
                "best_epoch": s["best_epoch"],
                "epochs": len(s["history"]),
                "budget_limited": s["budget_limited"],
                "fit_shared": s.get("fit_shared", False),
            }
            for m, s in zip(members, summaries, strict=True)
        ],
        "timings": {"epoch_s": [e for s in summaries for e in s["timings"]["epoch_s"]]},
    }


class _Combined(Method):
    """What the ensemble and the hybrid share: member parameters, work folders, checks."""

    kind = "deep"
    input = "images"
    #: parameters the combined method reads itself; the rest go to its CNN members
    OWN: tuple[str, ...] = ()

    def _own(self) -> dict:
        return {k: v for k, v in self.params.items() if k in self.OWN}

    def _member_params(self) -> dict:
        params = {k: v for k, v in self.params.items() if k not in self.OWN}
        params.setdefault("tta", True)
        return params

    def _work(self, label: str) -> Path | None:
        return None if self.work_dir is None else Path(self.work_dir) / label

    def _check_input(self, x):
        from .method import _check_images

        shape = _check_images(x, f"{self.name}.predict_proba")
        if shape[1:] != self.input_shape_:
            msg = (
                f"{self.name}: the model was trained on {self.input_shape_} images, got {shape[1:]}"
            )
            raise ShapeMismatchError(msg)

    def _meta(self) -> dict:
        return {
            "name": self.name,
            "params": self.params,
            "seed": self.seed,
            "n_candidates": self.n_candidates,
            "class_weight": self.class_weight,
            "classes": self.classes_.tolist(),
            "threshold": float(getattr(self, "threshold_", 0.5)),
            "input_shape": list(self.input_shape_),
        }

    @classmethod
    def _from_meta(cls, folder: Path):
        if not (folder / "method.json").is_file():
            msg = f"{folder}: no saved model here (method.json is missing)"
            raise MissingPathError(msg)
        meta = read_json(folder / "method.json", what="saved method description")
        method = cls(
            meta["name"],
            meta["params"],
            seed=meta["seed"],
            n_candidates=meta.get("n_candidates", 0),
            class_weight=meta.get("class_weight", "none"),
        )
        method.classes_ = np.asarray(meta["classes"])
        method.input_shape_ = tuple(meta["input_shape"])
        method.set_threshold(meta["threshold"])
        return method, meta


class EnsembleMethod(_Combined):
    """An average of CNNs: ``architectures`` × ``n_seeds`` members, each with D4 TTA.

    Parameters (in ``params``)
    --------------------------
    architectures : list of str
        Registered CNNs (``deep.available()``); default ``["galaxy-cnn"]``.
    n_seeds : int
        Members per architecture, seeded ``seed + 1000 * i``; default 3.
    any other key
        A training setting or architecture hyperparameter given to every member
        (``time_budget`` is per member); ``tta`` defaults to true.
    """

    OWN = ("architectures", "n_seeds")

    def _plan(self) -> list[tuple[str, int]]:
        own = {"architectures": ["galaxy-cnn"], "n_seeds": 3, **self._own()}
        names = own["architectures"]
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list | tuple) or not names:
            msg = f"{self.name}: architectures must be a list of CNN names, got {names!r}"
            raise ConfigError(msg)
        n_seeds = own["n_seeds"]
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
            msg = f"{self.name}: n_seeds must be a positive integer, got {n_seeds!r}"
            raise ConfigError(msg)
        for name in names:
            _check_architecture(name, f"{self.name}: architectures")
        return [(n, self.seed + SEED_STRIDE * i) for n in names for i in range(n_seeds)]

    def check_params(self) -> None:
        """Check the parameters without data (an experiment file is read)."""
        params = self._member_params()
        for name in dict.fromkeys(n for n, _ in self._plan()):
            _member(name, params, self.seed, self).settings()

    def validate(self, *, n_train: int, n_classes: int, input_shape: tuple) -> None:
        params = self._member_params()
        for name in dict.fromkeys(n for n, _ in self._plan()):
            _member(name, params, self.seed, self).validate(
                n_train=n_train, n_classes=n_classes, input_shape=input_shape
            )

    def fit(self, x_train, y_train, x_val=None, y_val=None) -> EnsembleMethod:
        """Train every member on the same data (each early-stopped on the validation part)."""
        params = self._member_params()
        self.members_ = []
        for i, (name, seed) in enumerate(self._plan()):
            work = self._work(f"member{i}")
            member = _member(name, params, seed, self, work)
            self.members_.append(_fit_member(member, work, x_train, y_train, x_val, y_val))
        self.classes_ = self.members_[0].classes_
        self.input_shape_ = self.members_[0].input_shape_
        self.threshold_ = 0.5
        return self

    def predict_proba(self, x, *, batch_size: int | None = None) -> np.ndarray:
        self._check_input(x)
        total = sum(m.predict_proba(x, batch_size=batch_size) for m in self.members_)
        return total / len(self.members_)

    def summary(self) -> dict:
        return {
            "method_params": {**self.params, "members": [[m.name, m.seed] for m in self.members_]},
            "class_weight": self.class_weight,
            "tuning": [],
            "importances": None,
            "threshold": getattr(self, "threshold_", None),
            **_deep_summary(self.members_),
        }

    def save(self, folder) -> None:
        folder = Path(folder)
        for i, member in enumerate(self.members_):
            member.save(folder / f"member{i}")
        write_json(folder / "method.json", {**self._meta(), "n_members": len(self.members_)})

    @classmethod
    def load(cls, folder) -> EnsembleMethod:
        from .method import DeepMethod

        folder = Path(folder)
        method, meta = cls._from_meta(folder)
        method.members_ = [DeepMethod.load(folder / f"member{i}") for i in range(meta["n_members"])]
        return method


class HybridMethod(_Combined):
    """A CNN's embedding and hand-crafted features, classified by a tuned classical method.

    The CNN is trained first (early-stopped on the validation part); its ``features``
    layer, averaged over the D4 views, is computed for the training and validation
    images; the feature sets are fitted on the training images only; the classical
    ``head`` is fitted on the training part with its registered candidates tried on the
    validation part, as every baseline is.

    Parameters (in ``params``)
    --------------------------
    backbone : str
        A registered CNN; default ``"galaxy-cnn"``.
    features : list of str
        Registered feature sets (``features.available()``) beside the embedding; default
        ``["handcrafted"]``; ``[]`` for the embedding alone.
    feature_params : dict
        Parameters per feature set, e.g. ``{pca = {n_components = 20}}``.
    head : str
        A registered classical method; default ``"logreg"``.
    head_params : dict
        Fixed hyperparameters of the head (others are tuned on validation).
    backbone_seeds : int
        CNNs whose embeddings are joined side by side, seeded ``seed + 1000 * i`` like an
        ensemble's members (so in one experiment they are the ensemble's, trained once);
        default 1.
    any other key
        A training setting or hyperparameter of the backbone (``tta`` defaults to true).
    """

    OWN = ("backbone", "features", "feature_params", "head", "head_params", "backbone_seeds")

    def _config(self) -> dict:
        import features as feature_sets
        from benchmark import methods

        own = {
            "backbone": "galaxy-cnn",
            "features": ["handcrafted"],
            "feature_params": {},
            "head": "logreg",
            "head_params": {},
            "backbone_seeds": 1,
            **self._own(),
        }
        n_seeds = own["backbone_seeds"]
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
            msg = f"{self.name}: backbone_seeds must be a positive integer, got {n_seeds!r}"
            raise ConfigError(msg)
        _check_architecture(own["backbone"], f"{self.name}: backbone")
        names = [own["features"]] if isinstance(own["features"], str) else own["features"]
        if not isinstance(names, list | tuple):
            msg = f"{self.name}: features must be a list of feature-set names, got {names!r}"
            raise ConfigError(msg)
        for name in names:
            if name not in feature_sets.available():
                msg = (
                    f"{self.name}: unknown feature set {name!r}; valid names: "
                    f"{', '.join(feature_sets.available())}"
                )
                raise ConfigError(msg)
        fparams = own["feature_params"]
        if not isinstance(fparams, dict) or set(fparams) - set(names):
            msg = (
                f"{self.name}: feature_params must map feature sets listed in features to "
                f"their parameters, got {fparams!r}"
            )
            raise ConfigError(msg)
        head = own["head"]
        if head not in methods.available(kind="classical"):
            msg = (
                f"{self.name}: head {head!r} is not a classical method; valid names: "
                f"{', '.join(methods.available(kind='classical'))}"
            )
            raise ConfigError(msg)
        if not isinstance(own["head_params"], dict):
            msg = f"{self.name}: head_params must be a table of the head's hyperparameters"
            raise ConfigError(msg)
        own["features"] = list(names)
        return own

    def _head(self, config):
        from benchmark import methods

        return methods.create(
            config["head"],
            config["head_params"],
            seed=self.seed,
            n_candidates=self.n_candidates,
            class_weight=self.class_weight,
        )

    def check_params(self) -> None:
        """Check the parameters without data (an experiment file is read)."""
        import features as feature_sets

        config = self._config()
        _member(config["backbone"], self._member_params(), self.seed, self).settings()
        for name in config["features"]:
            feature_sets.get(name, **config["feature_params"].get(name, {}))
        import baselines

        baselines.get(config["head"], **config["head_params"])

    def validate(self, *, n_train: int, n_classes: int, input_shape: tuple) -> None:
        import features as feature_sets

        config = self._config()
        backbone = _member(config["backbone"], self._member_params(), self.seed, self)
        backbone.validate(n_train=n_train, n_classes=n_classes, input_shape=input_shape)
        for name in config["features"]:
            feature_sets.validate(
                name,
                config["feature_params"].get(name, {}),
                image_shape=input_shape,
                n_train=n_train,
            )

    def _inputs(self, x) -> np.ndarray:
        parts = [embed(b, x) for b in self.backbones_]
        parts += [np.asarray(e.transform(x), dtype=np.float32) for e in self.extractors_]
        return np.hstack(parts)

    def fit(self, x_train, y_train, x_val=None, y_val=None) -> HybridMethod:
        import features as feature_sets

        config = self._config()
        self.backbones_ = []
        for i in range(config["backbone_seeds"]):
            work = self._work("backbone" if i == 0 else f"backbone{i}")
            seed = self.seed + SEED_STRIDE * i
            member = _member(config["backbone"], self._member_params(), seed, self, work)
            self.backbones_.append(_fit_member(member, work, x_train, y_train, x_val, y_val))
        self.backbone_ = self.backbones_[0]
        self.extractors_ = [
            feature_sets.get(name, **config["feature_params"].get(name, {})).fit(x_train)
            for name in config["features"]
        ]
        self.feature_names_ = [
            f"cnn_{i}" if j == 0 else f"cnn_{j}_{i}"
            for j, b in enumerate(self.backbones_)
            for i in range(embed(b, x_train[:1]).shape[1])
        ] + [str(n) for e in self.extractors_ for n in e.get_feature_names_out()]
        has_val = x_val is not None and len(x_val) > 0
        f_train = self._inputs(x_train)
        f_val = self._inputs(x_val) if has_val else np.empty((0, f_train.shape[1]), np.float32)
        y_val = np.asarray(y_val if has_val else [], dtype=np.int64)
        self.head_ = self._head(config).fit(f_train, np.asarray(y_train, np.int64), f_val, y_val)
        self.classes_ = self.backbone_.classes_
        self.input_shape_ = self.backbone_.input_shape_
        self.threshold_ = 0.5
        return self

    def predict_proba(self, x, *, batch_size: int | None = None) -> np.ndarray:
        self._check_input(x)
        return self.head_.predict_proba(self._inputs(np.asarray(x)))

    def importance_shares(self) -> dict[str, float]:
        """The head's importance summed over the embedding and over each feature set."""
        values = self.head_.summary().get("importances")
        if values is None:
            return {}
        values = np.asarray(values, float)
        n_embed = sum(n.startswith("cnn_") for n in self.feature_names_)
        shares = {"cnn embedding": float(values[:n_embed].sum())}
        start = n_embed
        for name, e in zip(self._config()["features"], self.extractors_, strict=True):
            n = len(e.get_feature_names_out())
            shares[name] = float(values[start : start + n].sum())
            start += n
        total = sum(shares.values()) or 1.0
        return {k: v / total for k, v in shares.items()}

    def summary(self) -> dict:
        head = self.head_.summary()
        config = self._config()
        return {
            "method_params": {
                **{k: v for k, v in config.items() if k != "head_params"},
                "head_params": head["method_params"],
                "backbone_params": self.backbone_.summary()["method_params"],
            },
            "class_weight": self.class_weight,
            "tuning": head["tuning"],
            "importances": None,
            "importance_shares": self.importance_shares(),
            "threshold": getattr(self, "threshold_", None),
            **_deep_summary(self.backbones_),
        }

    def save(self, folder) -> None:
        import joblib

        folder = Path(folder)
        for i, backbone in enumerate(self.backbones_):
            backbone.save(folder / ("backbone" if i == 0 else f"backbone{i}"))
        self.head_.save(folder / "head")
        with atomic_path(folder / "extractors.joblib") as tmp:
            joblib.dump(self.extractors_, tmp)
        meta = {**self._meta(), "feature_names": self.feature_names_}
        write_json(folder / "method.json", {**meta, "n_backbones": len(self.backbones_)})

    @classmethod
    def load(cls, folder) -> HybridMethod:
        import joblib

        from benchmark import methods

        from .method import DeepMethod

        folder = Path(folder)
        method, meta = cls._from_meta(folder)
        method.backbones_ = [
            DeepMethod.load(folder / ("backbone" if i == 0 else f"backbone{i}"))
            for i in range(meta.get("n_backbones", 1))
        ]
        method.backbone_ = method.backbones_[0]
        method.head_ = methods.load(folder / "head")
        method.extractors_ = joblib.load(folder / "extractors.joblib")
        method.feature_names_ = meta["feature_names"]
        return method

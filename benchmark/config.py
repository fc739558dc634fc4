"""Experiment configuration: TOML validated into frozen dataclasses.

This module holds the ``[dataset]`` table shared by every experiment file::

    [dataset]
    source = "imgs/"            # a registered dataset name or a path
    loader = "catalog"          # optional: detected from the path when omitted
    scheme = "binary"           # optional label scheme
    drop_classes = ["merger"]   # optional

    [dataset.params]            # loader parameters and shared preprocessing options
    catalog = "labels.csv"
    pattern = "{id}.jpeg"
    crop = 64

Unknown keys are errors that name the key.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ConfigError, MissingPathError
from .metrics import THRESHOLD_STRATEGIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DatasetConfig",
    "ExperimentConfig",
    "RunConfig",
    "SplitConfig",
    "available_presets",
    "load_experiment",
    "read_toml",
]


def read_toml(path) -> dict:
    """Parse a TOML file with one-line errors for a missing or malformed file."""
    path = Path(path)
    if path.is_dir():
        msg = f"{path}: is a folder, not an experiment file (a .toml file)"
        raise ConfigError(msg)
    if not path.is_file():
        msg = f"{path}: no such configuration file"
        raise MissingPathError(msg)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text (byte {exc.start}); save the experiment file as UTF-8"
        raise ConfigError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: invalid TOML ({exc})"
        raise ConfigError(msg) from None


@dataclass(frozen=True)
class DatasetConfig:
    """The ``[dataset]`` table of an experiment.

    Parameters
    ----------
    source : str
        Registered dataset name or path (relative paths are taken from ``base``).
    loader : str, optional
    scheme : str, optional
    drop_classes : tuple of str
    params : mapping
        Loader parameters and preprocessing options.
    prefer_scheme : str, optional
        A preset's label scheme for real data, used where the data have it (an SDSS-II SN
        file's ``binary``, a Galaxy Zoo catalogue's ``gz4``) and ``scheme`` is not given;
        data without it keep their own labels.
    """

    source: str
    loader: str | None = None
    scheme: str | None = None
    drop_classes: tuple[str, ...] = ()
    params: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    prefer_scheme: str | None = None

    KEYS = ("source", "loader", "scheme", "prefer_scheme", "drop_classes", "params")

    @classmethod
    def from_table(cls, table: dict, *, base: Path | None = None, where: str = "[dataset]"):
        """Validate a parsed ``[dataset]`` table."""
        if not isinstance(table, dict):
            msg = f"{where} must be a table"
            raise ConfigError(msg)
        unknown = [k for k in table if k not in cls.KEYS]
        if unknown:
            msg = (
                f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(cls.KEYS)} "
                f"(loader parameters go in {where[:-1]}.params])"
            )
            raise ConfigError(msg)
        if "source" not in table:
            msg = f"{where}: missing key 'source' (a dataset name or a path)"
            raise ConfigError(msg)
        for key in ("source", "loader", "scheme", "prefer_scheme"):
            if key in table and not isinstance(table[key], str):
                msg = f"{where}.{key} must be a string, got {table[key]!r}"
                raise ConfigError(msg)
        drop = table.get("drop_classes", [])
        if isinstance(drop, str) or not all(isinstance(c, str) for c in drop):
            msg = f"{where}.drop_classes must be a list of class names, got {drop!r}"
            raise ConfigError(msg)
        params = table.get("params", {})
        if not isinstance(params, dict):
            msg = f"{where}.params must be a table of loader parameters"
            raise ConfigError(msg)
        source = table["source"]
        if base is not None and not Path(source).is_absolute() and (base / source).exists():
            source = str(base / source)
        return cls(
            source=source,
            loader=table.get("loader"),
            scheme=table.get("scheme"),
            drop_classes=tuple(drop),
            params=MappingProxyType(dict(params)),
            prefer_scheme=table.get("prefer_scheme"),
        )

    def load(self, **overrides: Any):
        """Load the dataset this table describes."""
        from . import datasets

        params = {**self.params, **overrides}
        return datasets.load(
            self.source,
            loader=self.loader,
            scheme=self.scheme,
            prefer_scheme=self.prefer_scheme,
            drop_classes=list(self.drop_classes),
            **params,
        )


PRESETS_DIR = Path(__file__).parent / "presets"
THRESHOLDS = THRESHOLD_STRATEGIES  # benchmark.metrics.choose_threshold
CLASS_WEIGHTS = ("balanced", "none")


def available_presets() -> list[str]:
    """Names of the shipped experiment presets."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def _check_keys(table: dict, allowed, where: str) -> None:
    if not isinstance(table, dict):
        msg = f"{where} must be a table"
        raise ConfigError(msg)
    unknown = [k for k in table if k not in allowed]
    if unknown:
        msg = f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(allowed)}"
        raise ConfigError(msg)


def _number(table, key, where, kind=float, low=None, high=None):
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{where}.{key} must be a number, got {value!r}"
        raise ConfigError(msg)
    if kind is int and int(value) != value:
        msg = f"{where}.{key} must be an integer, got {value!r}"
        raise ConfigError(msg)
    if (low is not None and value < low) or (high is not None and value > high):
        msg = f"{where}.{key} must lie in [{low}, {high}], got {value!r}"
        raise ConfigError(msg)
    return kind(value)


@dataclass(frozen=True)
class SplitConfig:
    """``[split]``: seed, fractions (seed 001: 25% test, 30% of the rest val), grouping.

    ``group_column`` names a per-sample column (e.g. ``objectId``) whose groups are
    never divided between parts; the loader may name one by default (``ztf-alerts``),
    and ``group_column = ""`` turns that off.
    """

    seed: int = 0
    test_size: float = 0.25
    val_size: float = 0.30
    group_column: str | None = None

    @classmethod
    def from_table(cls, table: dict, where: str = "[split]"):
        _check_keys(table, ("seed", "test_size", "val_size", "group_column"), where)
        kw = {}
        if "seed" in table:
            kw["seed"] = _number(table, "seed", where, int, 0)
        for key in ("test_size", "val_size"):
            if key in table:
                kw[key] = _number(table, key, where, float, 0.0, 0.95)
                if kw[key] == 0:
                    part = "test" if key == "test_size" else "validation"
                    msg = (
                        f"{where}.{key} = 0 leaves no {part} part; every method needs one "
                        f"(e.g. {key} = {getattr(cls, key)})"
                    )
                    raise ConfigError(msg)
        if "group_column" in table:
            if not isinstance(table["group_column"], str):
                msg = f"{where}.group_column must be a column name, got {table['group_column']!r}"
                raise ConfigError(msg)
            kw["group_column"] = table["group_column"]
        return cls(**kw)


def _choice(table, key, where, valid) -> str:
    if table[key] not in valid:
        msg = f"{where}.{key}: unknown value {table[key]!r}; valid: {', '.join(valid)}"
        raise ConfigError(msg)
    return table[key]


@dataclass(frozen=True)
class RunConfig:
    """``[run]``: seeds, tuning, class imbalance, decision threshold, bootstrap size.

    Parameters
    ----------
    seeds : int
        Repeats with seeds 0..seeds-1 (same split; the methods' own randomness changes).
    n_candidates : int
        Hyperparameter candidates tried on the validation part besides the defaults: a
        fixed set drawn with the run's seed, the same count for every method that tunes.
    class_weight : {"balanced", "none"}
        One treatment of class imbalance for every method, CNNs included.
    threshold : {"fixed", "auto", "balanced", "max-f1", "target-recall"}
        Binary decision thresholds: 0.5 (``fixed``), or chosen on the validation part for
        each method alike: the highest balanced accuracy (``balanced``; ``auto``: where
        the rarer class is under 40% of the validation part, else 0.5), the highest F1,
        or the highest threshold reaching ``target_recall``.
    target_recall : float
    n_bootstrap : int
        Bootstrap resamples of the test part for CIs and paired tests.
    save_models : {"deep", "all"}
        Which runs keep their fitted model in the results folder for ``predict``: the
        CNNs only (default), or every method (with its fitted feature extractor).
    train_sizes : tuple of float
        Training-set sizes of a learning-curve sweep: fractions of the training part
        (``0 < f <= 1``) or sample counts (integers above 1).  Every method also trains on
        nested, stratified subsets of that size; the full training part is always run.
        Empty (the default): no sweep.
    """

    seeds: int = 1
    n_candidates: int = 8
    class_weight: str = "balanced"
    threshold: str = "fixed"
    target_recall: float = 0.95
    n_bootstrap: int = 1000
    train_sizes: tuple = ()
    save_models: str = "deep"

    KEYS = (
        "seeds",
        "n_candidates",
        "class_weight",
        "threshold",
        "target_recall",
        "n_bootstrap",
        "train_sizes",
        "save_models",
    )

    @classmethod
    def from_table(cls, table: dict, where: str = "[run]"):
        if "tune_budget" in table:
            msg = (
                f"{where}.tune_budget was replaced by n_candidates: tuning now tries a fixed, "
                f"seeded number of candidates (e.g. n_candidates = 8), never a race against "
                f"the clock"
            )
            raise ConfigError(msg)
        _check_keys(table, cls.KEYS, where)
        kw = {}
        if "seeds" in table:
            kw["seeds"] = _number(table, "seeds", where, int, 1, 100)
        if "n_candidates" in table:
            kw["n_candidates"] = _number(table, "n_candidates", where, int, 0, 1000)
        if "target_recall" in table:
            kw["target_recall"] = _number(table, "target_recall", where, float, 0.0, 1.0)
        if "n_bootstrap" in table:
            kw["n_bootstrap"] = _number(table, "n_bootstrap", where, int, 0, 100000)
        if "threshold" in table:
            try:
                kw["threshold"] = _choice(table, "threshold", where, THRESHOLDS)
            except ConfigError:
                msg = (
                    f"{where}.threshold: unknown strategy {table['threshold']!r}; "
                    f"valid: {', '.join(THRESHOLDS)}"
                )
                raise ConfigError(msg) from None
        if "class_weight" in table:
            kw["class_weight"] = _choice(table, "class_weight", where, CLASS_WEIGHTS)
        if "train_sizes" in table:
            kw["train_sizes"] = train_sizes(table["train_sizes"], f"{where}.train_sizes")
        if "save_models" in table:
            kw["save_models"] = _choice(table, "save_models", where, ("deep", "all"))
        return cls(**kw)

    def to_dict(self) -> dict:
        """Plain data; ``train_sizes`` only when a sweep is asked for and ``save_models``
        only when not the default (so the hash of an experiment without them is what it
        was before they existed)."""
        out = dict(self.__dict__)
        if not out["train_sizes"]:
            del out["train_sizes"]
        else:
            out["train_sizes"] = list(out["train_sizes"])
        if out["save_models"] == "deep":
            del out["save_models"]
        return out


def train_sizes(value, where: str = "train_sizes") -> tuple:
    """Validated training-set sizes, smallest first, duplicates removed, always with 1.0.

    Fractions lie in (0, 1]; counts are integers above 1.
    """
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        msg = f"{where} must be a list of fractions or counts, e.g. [0.1, 0.25, 0.5, 1.0]"
        raise ConfigError(msg)
    out = []
    for v in value:
        ok = not isinstance(v, bool) and isinstance(v, int | float)
        if ok and float(v) > 1:
            ok = float(v) == int(v)
        if not ok or not float(v) > 0:
            msg = (
                f"{where}: {v!r} is not a training-set size; give fractions of the training "
                f"part in (0, 1] or whole sample counts above 1"
            )
            raise ConfigError(msg)
        out.append(int(v) if float(v) > 1 else float(v))
    out.append(1.0)
    fractions = sorted({v for v in out if isinstance(v, float)})
    counts = sorted({v for v in out if isinstance(v, int)})
    return tuple(counts + fractions) if counts else tuple(fractions)


def method_names() -> list[str]:
    """Every method an experiment may name: classical baselines and deep models."""
    from . import methods

    return methods.available()


def _check_method(name: str, params: dict) -> None:
    """Build the method with ``params`` (a CNN's settings and hyperparameter names too)."""
    from . import methods

    if methods.spec(name).get("combined"):  # made of CNNs: deep.combined
        methods.create(name, params).check_params()
    elif methods.spec(name)["kind"] == "deep":
        import deep

        deep.get(name, **params)
    else:
        import baselines

        baselines.get(name, **params)


NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _check_name(value, where: str) -> str:
    """An experiment name is also its results folder's name: letters, digits, . _ - only."""
    if not isinstance(value, str):
        msg = f"{where}: missing string key 'name'"
        raise ConfigError(msg)
    if not NAME_PATTERN.match(value) or value in (".", ".."):
        msg = (
            f"{where}: name {value!r} must start with a letter or digit and hold only "
            f"letters, digits, '.', '_' and '-' (it names the results folder)"
        )
        raise ConfigError(msg)
    return value


def _check_published(value, where: str):
    """``published``: one benchmark's name or a list of them (rows shown in that order)."""
    from .tables import published_benchmarks

    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        msg = f"{where}: published must be a benchmark name or a list of them, got {value!r}"
        raise ConfigError(msg)
    valid = published_benchmarks()
    for name in names:
        if name not in valid:
            msg = f"{where}: unknown published benchmark {name!r}; valid: {', '.join(valid)}"
            raise ConfigError(msg)
    return value if isinstance(value, str) else tuple(names)


def _select(table: dict, key: str, chosen, valid) -> dict:
    """``table`` restricted to the ``chosen`` names (``--methods``, ``--features``)."""
    if not chosen:
        return table
    unknown = [n for n in chosen if n not in valid]
    if unknown:
        msg = f"unknown {key[:-1]} {unknown[0]!r}; valid: {', '.join(valid)}"
        raise ConfigError(msg)
    return {n: table.get(n, {}) for n in chosen}


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _named_tables(table, where, registry_names, validate, chosen=None):
    """``name = { parameters }`` tables: names checked, then ``chosen`` ones built and validated."""
    if not isinstance(table, dict) or not table:
        msg = f"{where} must be a non-empty table of name = {{ parameters }}"
        raise ConfigError(msg)
    for name, params in table.items():
        if name not in registry_names:
            msg = f"{where}: unknown name {name!r}; valid: {', '.join(registry_names)}"
            raise ConfigError(msg)
        if not isinstance(params, dict):
            msg = f"{where}.{name} must be a table of parameters, got {params!r}"
            raise ConfigError(msg)
    out = {}
    for name, params in _select(table, where.strip("[]"), chosen, registry_names).items():
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        validate(name, params)
        out[name] = params
    return MappingProxyType(out)


def _apply_quick(table: dict, keys, where: str) -> dict:
    """``table`` with its ``[quick]`` profile merged in."""
    if "quick" not in table:
        return table
    return _apply_profile(table, table["quick"], keys, where, "quick")


def _apply_profile(table: dict, profile, keys, where: str, section: str) -> dict:
    """``table`` with ``profile`` (the table ``[section]``) merged in and the profile's
    ``skip_methods`` and ``skip_features`` removed."""
    if not isinstance(profile, dict):
        msg = f"{where}: [{section}] must be a table"
        raise ConfigError(msg)
    profile = dict(profile)
    skips = {part: profile.pop(f"skip_{part}", []) for part in ("methods", "features")}
    for part, skip in skips.items():
        if isinstance(skip, str) or not all(isinstance(m, str) for m in skip):
            msg = f"{where}: [{section}].skip_{part} must be a list of names from [{part}]"
            raise ConfigError(msg)
    _check_keys(profile, [k for k in keys if k not in ("quick", "real", "name")], f"[{section}]")
    table = _merge(table, profile)
    for part, skip in skips.items():
        missing = [m for m in skip if m not in table.get(part, {})]
        if missing:
            msg = f"{where}: [{section}].skip_{part} names {missing[0]!r}, not in [{part}]"
            raise ConfigError(msg)
        if skip:
            table[part] = {k: v for k, v in table[part].items() if k not in skip}
    return table


def split_dataset_params(dataset_params, dataset_table, *, source_option="--data PATH"):
    """Take the keys of the [dataset] table itself (``scheme``, ``prefer_scheme``,
    ``drop_classes``) out of ``-p`` parameters into the table: ``-p drop_classes=a,b``
    works like ``drop_classes = ["a", "b"]``; ``source`` and ``loader`` have options.
    Returns the loader parameters left and the table."""
    params = dict(dataset_params or {})
    for key, option in (("source", source_option), ("loader", "--loader NAME")):
        if key in params:
            msg = f"-p {key}=... is not a loader parameter; give {option} instead"
            raise ConfigError(msg)
    table = dict(dataset_table)
    for key in ("scheme", "prefer_scheme", "drop_classes"):
        if key in params:
            value = params.pop(key)
            if key == "drop_classes":
                value = [] if value is None else value if isinstance(value, list) else [value]
                value = [str(v) for v in value]
            table[key] = value
    return params, table


def _apply_real(table: dict, keys, quick: bool, where: str) -> dict:
    """``table`` with its ``[real]`` profile merged in: what a preset runs on real data.

    ``[real]`` takes the keys of ``[quick]`` (e.g. pretraining on the simulator, which on
    the simulated default would pretrain on the data's own simulation) and may hold its
    own ``[real.quick]``: with ``--quick``, ``[quick]``, then ``[real]``, then
    ``[real.quick]`` are merged.
    """
    profile = table.get("real")
    if profile is None:
        return table
    if not isinstance(profile, dict):
        msg = f"{where}: [real] must be a table"
        raise ConfigError(msg)
    if quick:
        table = _apply_quick(table, keys, where)
    own = {k: v for k, v in profile.items() if k != "quick"}
    table = _apply_profile(table, own, keys, where, "real")
    if quick:
        table = _apply_profile(table, profile.get("quick", {}), keys, where, "real.quick")
    return table


#: Training-set sizes of ``--sweep`` when ``[sweep]`` gives none (and with ``--quick``).
SWEEP_SIZES = (0.05, 0.1, 0.25, 0.5, 1.0)
QUICK_SWEEP_SIZES = (0.25, 1.0)


def _apply_sweep(table: dict, quick: bool, where: str) -> dict:
    """``table`` turned into its learning-curve experiment by the ``[sweep]`` profile.

    ``[sweep]`` may give ``train_sizes`` (and ``quick_train_sizes`` for ``--quick``) and
    ``methods`` / ``features``: the experiment's names that the sweep keeps, as a list or
    as a table whose entries override those methods' (feature sets') parameters.
    """
    profile = table.get("sweep", {})
    _check_keys(profile, ("train_sizes", "quick_train_sizes", "methods", "features"), "[sweep]")
    table = dict(table)
    key = "quick_train_sizes" if quick else "train_sizes"
    sizes = profile.get(key, QUICK_SWEEP_SIZES if quick else SWEEP_SIZES)
    table["run"] = {**table.get("run", {}), "train_sizes": train_sizes(sizes, f"[sweep].{key}")}
    for part in ("methods", "features"):
        if part not in profile:
            continue
        keep = profile[part]
        overrides = keep if isinstance(keep, dict) else {}
        if not isinstance(keep, dict) and (
            isinstance(keep, str) or not all(isinstance(m, str) for m in keep)
        ):
            msg = f"{where}: [sweep].{part} must be a list of names from [{part}] or a table"
            raise ConfigError(msg)
        missing = [m for m in keep if m not in table.get(part, {})]
        if missing:
            msg = f"{where}: [sweep].{part} names {missing[0]!r}, not in [{part}]"
            raise ConfigError(msg)
        table[part] = {
            k: _merge(dict(v), dict(overrides.get(k, {})))
            for k, v in table[part].items()
            if k in keep
        }
    table["name"] = f"{table.get('name')}-sweep"
    return table


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: data, split, feature sets, methods and run settings."""

    name: str
    dataset: DatasetConfig
    split: SplitConfig
    features: MappingProxyType
    methods: MappingProxyType
    run: RunConfig
    description: str = ""
    published: str | tuple | None = None
    real_data: bool = False

    KEYS = (
        "name",
        "description",
        "published",
        "dataset",
        "dataset_real",
        "split",
        "features",
        "methods",
        "run",
        "quick",
        "real",
        "sweep",
    )

    @classmethod
    def from_table(
        cls,
        table: dict,
        *,
        base: Path | None = None,
        quick: bool = False,
        data: str | None = None,
        loader: str | None = None,
        dataset_params=None,
        methods=None,
        features=None,
        seeds: int | None = None,
        sweep: bool = False,
        train_sizes=None,
        save_models: bool = False,
        threshold: str | None = None,
        where: str = "experiment",
    ):
        """Validate a parsed experiment.

        ``quick`` merges ``[quick]``; ``data`` swaps in real data (with
        ``[dataset_real]`` and the ``[real]`` profile; ``loader`` names its loader, over
        detection and ``[dataset_real].loader``); ``dataset_params`` replace the
        dataset's parameters of those names (``-p`` on the command line; a value of
        None removes one); ``methods`` / ``features`` keep
        only those (before anything is built, so a classical-only selection never imports
        Keras);
        ``seeds`` replaces ``[run].seeds``; ``sweep`` applies the ``[sweep]`` profile
        (a learning-curve experiment named ``<name>-sweep``); ``train_sizes`` replaces
        ``[run].train_sizes``; ``save_models`` keeps every method's fitted model;
        ``threshold`` replaces ``[run].threshold``.
        """
        import features as feature_sets

        _check_keys(table, cls.KEYS, where)
        if data is not None and "real" in table:
            table = _apply_real(table, cls.KEYS, quick, where)
        elif quick:
            table = _apply_quick(table, cls.KEYS, where)
        if sweep:
            table = _apply_sweep(table, quick, where)
        name = _check_name(table.get("name"), where)
        if "dataset" not in table:
            msg = f"{where}: missing table [dataset]"
            raise ConfigError(msg)
        dataset_table = table["dataset"]
        if data is not None:
            real = table.get("dataset_real", {})
            keys = ("loader", "scheme", "prefer_scheme", "drop_classes", "params")
            _check_keys(real, keys, "[dataset_real]")
            dataset_table = {"source": str(data), **real}
            if loader is not None:
                dataset_table["loader"] = loader
            base = None
        elif loader is not None:
            msg = f"--loader {loader} names the loader of --data; give --data too"
            raise ConfigError(msg)
        params = dataset_table.get("params", {})
        dataset_params, dataset_table = split_dataset_params(dataset_params, dataset_table)
        if dataset_params and isinstance(params, dict):  # else from_table says what is wrong
            params = {**params, **dict(dataset_params)}
            params = {k: v for k, v in params.items() if v is not None}
            dataset_table = {**dataset_table, "params": params}
        run_table = dict(table.get("run", {}))
        if seeds is not None:
            run_table["seeds"] = seeds
        if train_sizes is not None:
            run_table["train_sizes"] = list(train_sizes)
        if save_models:
            run_table["save_models"] = "all"
        if threshold is not None:
            run_table["threshold"] = threshold
        return cls(
            name=name,
            description=str(table.get("description", "")),
            published=_check_published(table.get("published"), where),
            dataset=DatasetConfig.from_table(dataset_table, base=base),
            split=SplitConfig.from_table(table.get("split", {})),
            features=_named_tables(
                table.get("features"),
                "[features]",
                feature_sets.available(),
                lambda n, p: feature_sets.get(n, **p),
                features,
            ),
            methods=_named_tables(
                table.get("methods"), "[methods]", method_names(), _check_method, methods
            ),
            run=RunConfig.from_table(run_table),
            real_data=data is not None,
        )

    def select(self, *, methods=None, features=None, seeds=None) -> ExperimentConfig:
        """A copy restricted to some methods / feature sets, or with another seed count.

        A name the experiment lacks is added with its default parameters.
        """
        import dataclasses

        import features as feature_sets

        changes = {}
        for key, chosen, valid, check in (
            ("methods", methods, method_names(), _check_method),
            ("features", features, feature_sets.available(), lambda n, p: feature_sets.get(n, **p)),
        ):
            if chosen:
                table = _select(dict(getattr(self, key)), key, chosen, valid)
                for name, params in table.items():
                    check(name, dict(params))
                changes[key] = MappingProxyType(table)
        if seeds is not None:
            changes["run"] = RunConfig.from_table({**self.run.to_dict(), "seeds": seeds})
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain data (saved with the results; its hash identifies the experiment)."""
        prefer = self.dataset.prefer_scheme
        return {
            "name": self.name,
            "description": self.description,
            "published": list(self.published)
            if isinstance(self.published, tuple)
            else self.published,
            "real_data": self.real_data,
            "dataset": {
                "source": self.dataset.source,
                "loader": self.dataset.loader,
                "scheme": self.dataset.scheme,
                "drop_classes": list(self.dataset.drop_classes),
                "params": dict(self.dataset.params),
                # only when given, so that the hash of an experiment without it is unchanged
                **({"prefer_scheme": prefer} if prefer else {}),
            },
            "split": self.split.__dict__,
            "features": {k: dict(v) for k, v in self.features.items()},
            "methods": {k: dict(v) for k, v in self.methods.items()},
            "run": self.run.to_dict(),
        }

    @property
    def hash(self) -> str:
        import hashlib
        import json

        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_experiment(
    name_or_path,
    *,
    quick: bool = False,
    data=None,
    loader=None,
    dataset_params=None,
    methods=None,
    features=None,
    seeds=None,
    sweep: bool = False,
    train_sizes=None,
    save_models: bool = False,
    threshold: str | None = None,
) -> ExperimentConfig:
    """A preset by name, or an experiment TOML file, validated (see ``from_table``)."""
    from .errors import UnknownNameError

    text = str(name_or_path)
    path = Path(text)
    if text in available_presets():
        path = PRESETS_DIR / f"{text}.toml"
    elif not (path.suffix == ".toml" or path.exists()):
        valid = ", ".join(available_presets())
        msg = f"unknown preset {text!r}; valid presets: {valid} (or a .toml file)"
        raise UnknownNameError(msg)
    table = read_toml(path)
    return ExperimentConfig.from_table(
        table,
        base=path.parent,
        quick=quick,
        data=data,
        loader=loader,
        dataset_params=dataset_params,
        methods=methods,
        features=features,
        seeds=seeds,
        sweep=sweep,
        train_sizes=train_sizes,
        save_models=save_models,
        threshold=threshold,
        where=path.name,
    )

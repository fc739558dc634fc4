"""The ``python -m benchmark`` command line.

Every error reaches the user as one line on stderr: bad input as ``error: ...``
(exit status 2), a bug as ``error: internal error in <command> ...`` (exit 1),
Ctrl-C as ``interrupted; ...`` (exit 130).  ``--debug`` shows tracebacks instead.
Every command that writes follows the write rule of :mod:`benchmark.outputs`.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path

from .errors import AstrobenchError

__all__ = ["main", "parse_param"]

log = logging.getLogger("benchmark")

EXIT_ERROR = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line."""

    def error(self, message):
        self.exit(EXIT_ERROR, f"error: {message} (see {self.prog} --help)\n")


def parse_param(text: str) -> tuple[str, object]:
    """Parse ``KEY=VALUE`` from ``-p``: numbers, true/false/none, comma lists, else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        msg = f"-p expects KEY=VALUE, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return key.strip(), _parse_value(value.strip())


def _parse_value(value: str):
    if "," in value:
        return [_parse_value(v.strip()) for v in value.split(",") if v.strip()]
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a positive integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _sizes(text: str) -> list:
    values = _parse_value(text)
    values = values if isinstance(values, list) else [values]
    if not values or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        msg = f"expects comma-separated numbers such as 0.1,0.5,1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return values


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0 or value < -1:
        msg = f"must be a positive integer or -1 (every core), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_params(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument(
        "-p",
        "--param",
        dest="params",
        action="append",
        type=parse_param,
        default=[],
        metavar="KEY=VALUE",
        help=text,
    )


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="dataset name or path (file or folder)")
    p.add_argument("--loader", help="loader name (see `list`); detected from the path if omitted")
    _add_params(p, "loader parameter or preprocessing option (repeatable)")
    p.add_argument("--scheme", help="label scheme (e.g. binary, visual, gz4)")
    p.add_argument("--drop-classes", help="comma-separated classes to remove")


def _add_output(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-o", "--output", required=True, help=f"output {what}")
    p.add_argument(
        "--force", action="store_true", help="replace an existing output that astrobench wrote"
    )


def _data_parser(sub) -> None:
    data = sub.add_parser("data", help="inspect, convert, split and simulate datasets")
    dsub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    _add_source(dsub.add_parser("info", help="print a dataset's shape, classes and counts"))
    prep = dsub.add_parser("prepare", help="convert any source into the canonical HDF5 store")
    _add_source(prep)
    _add_output(prep, ".h5 file")
    split = dsub.add_parser("split", help="make a seeded stratified split and save it as JSON")
    _add_source(split)
    _add_output(split, ".json file")
    split.add_argument("--seed", type=int, default=0)
    split.add_argument("--test-size", type=float, default=0.25)
    split.add_argument("--val-size", type=float, default=0.30)
    split.add_argument(
        "--group-column",
        help="keep every sample of a group (e.g. objectId) in one part; '' turns a loader's "
        "default grouping off",
    )
    sim = dsub.add_parser("simulate", help="simulate a dataset (sim-sdss-sn, sim-galaxy10)")
    sim.add_argument("name", help="sim-sdss-sn or sim-galaxy10")
    sim.add_argument("--n", type=_positive_int, help="number of images")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--layout", help="sim-sdss-sn: gri (default) or triplet")
    sim.add_argument("--mode", help="sim-galaxy10: galaxy10 (default), gz4 or decals")
    sim.add_argument("--jobs", type=_jobs, default=1, help="parallel worker processes")
    _add_params(sim, "other simulator parameter (repeatable)")
    _add_output(sim, ".h5 file")
    gal = dsub.add_parser("gallery", help="write a PNG grid of examples per class")
    _add_source(gal)
    _add_output(gal, ".png file")
    gal.add_argument("--per-class", type=_positive_int, default=8)
    gal.add_argument("--seed", type=int, default=0)
    gal.add_argument(
        "--beside",
        help="a second data set (name or path, read with its defaults) drawn below with the "
        "same stretch, e.g. real ZTF alerts beside simulated triplets",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m benchmark",
        description="astrobench: classical classifiers versus CNNs on astronomical images.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only results and errors")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and library logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list", help="list datasets, loaders, label schemes, features, models, presets")
    sub.add_parser("info", help="versions, the CNNs' Keras backend and devices (GPU or CPU)")
    run = sub.add_parser("run", help="run an experiment and print the comparison table")
    run.add_argument(
        "experiment",
        nargs="?",
        default="du-buisson-2015",
        help="preset name or experiment TOML (default: du-buisson-2015)",
    )
    run.add_argument("--data", help="run the preset on this real data path instead")
    run.add_argument(
        "--loader", help="loader of --data (see `list`); detected from the path if omitted"
    )
    _add_params(
        run,
        "dataset parameter or preprocessing option, over the experiment's (repeatable; "
        "e.g. -p crop=0.5 -p resize=64; KEY=none removes one)",
    )
    run.add_argument("--methods", nargs="+", help="only these methods")
    run.add_argument("--features", nargs="+", help="only these feature sets")
    run.add_argument("--seeds", type=_positive_int, help="repeat with this many seeds")
    run.add_argument(
        "--threshold",
        metavar="STRATEGY",
        help="binary decision thresholds, over [run].threshold: fixed (0.5), balanced (each "
        "method's best balanced accuracy on validation), auto (balanced where the rarer "
        "class is under 40%%, else 0.5), max-f1 or target-recall",
    )
    run.add_argument("--jobs", type=_jobs, default=-1, help="parallel runs (default -1: all cores)")
    run.add_argument("--out", help="results folder (default: results/<experiment>)")
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster: tcp://HOST:PORT of a running scheduler, or local:N "
        "(N worker processes here); needs astrobench[distributed]",
    )
    run.add_argument(
        "--deep-resources",
        metavar="NAME=N,...",
        help="Dask worker resources each CNN run claims, e.g. GPU=1 (with --scheduler)",
    )
    run.add_argument("--quick", action="store_true", help="small, fast profile")
    run.add_argument(
        "--save-models",
        action="store_true",
        help="keep every method's fitted model (CNNs' are always kept) for predict",
    )
    run.add_argument(
        "--sweep",
        action="store_true",
        help="learning curves: the preset's [sweep] profile on nested training subsets "
        "(results in results/<experiment>-sweep)",
    )
    run.add_argument(
        "--train-sizes",
        type=_sizes,
        metavar="SIZES",
        help="training-set sizes to sweep, comma-separated fractions of the training part "
        "or counts (e.g. 0.1,0.25,0.5,1 or 200,1000)",
    )
    run.add_argument(
        "--force", action="store_true", help="replace the results already in --out with new ones"
    )
    pred = sub.add_parser(
        "predict", help="score stamps or alerts with a saved model (a run's, or the best's)"
    )
    pred.add_argument(
        "model", help="a run folder, its model folder, or a results folder (its best run)"
    )
    pred.add_argument("inputs", nargs="+", help="stamp files or folders any loader reads")
    pred.add_argument("-o", "--output", required=True, help="scores file (.parquet or .csv)")
    pred.add_argument("--batch-size", type=_positive_int, default=1024, help="stamps per batch")
    pred.add_argument("--threshold", type=float, help="binary threshold (default: the run's)")
    pred.add_argument("--loader", help="loader name; detected from each path if omitted")
    _add_params(pred, "loader parameter or preprocessing option on top of the model's (repeatable)")
    pred.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out (and list) stamps with non-finite pixels, unreadable files, alerts "
        "or cutouts, and files of another size than the first, instead of stopping",
    )
    pred.add_argument("--force", action="store_true", help="replace a scores file astrobench wrote")
    report = sub.add_parser("report", help="rebuild the HTML report of a results folder")
    report.add_argument(
        "results",
        help="results folder, or a folder of them (then a landing page over the experiments)",
    )
    report.add_argument(
        "-o",
        "--output",
        help="report folder (default: RESULTS/report); for a folder of experiments, the "
        "landing page's file (default: RESULTS/index.html)",
    )
    _data_parser(sub)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the message."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _setup_logging(quiet: bool, debug: bool) -> None:
    for name in ("benchmark", "features", "baselines", "deep", "reports"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING if quiet else logging.INFO)
        if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.propagate = False
    if debug:
        os.environ["ASTROBENCH_DEBUG"] = "1"  # deep/_keras.py then lets the backend's logs through
    else:
        # TensorFlow's C++ notices and its tf.function re-tracing advice are noise on a
        # terminal; they are set before the backend is first imported
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)


def _check_packages() -> None:
    """Refuse to run when a folder of the user's shadows one of astrobench's packages."""
    home = Path(__file__).resolve().parent.parent
    for name in ("features", "baselines", "deep", "reports"):
        spec = importlib.util.find_spec(name)
        where = None
        if spec is not None:
            where = spec.origin or next(iter(spec.submodule_search_locations or []), None)
        path = Path(where).resolve() if where else None
        if path is None or home / name not in (path, path.parent):
            shown = path.parent if path and path.name == "__init__.py" else path
            msg = (
                f"the folder {shown} shadows astrobench's {name!r} package (it comes first on "
                f"Python's path); rename it, or run astrobench from another folder"
            )
            raise AstrobenchError(msg)


def _load(args):
    from . import datasets

    loader = args.loader
    if loader is None and args.source not in datasets.DATASETS:
        loader = datasets.detect(args.source)
        if not args.quiet:
            print(f"format: {loader} (detected; override with --loader)", file=sys.stderr)
    from .config import split_dataset_params

    # -p scheme=... and -p drop_classes=a,b work like --scheme and --drop-classes
    params, table = split_dataset_params(args.params, {}, source_option="the source argument")
    return datasets.load(
        args.source,
        loader=loader,
        scheme=args.scheme if args.scheme is not None else table.get("scheme"),
        prefer_scheme=table.get("prefer_scheme"),
        drop_classes=args.drop_classes or table.get("drop_classes"),
        progress=not args.quiet,
        **params,
    )


def _cmd_list(args) -> int:
    import features

    from . import datasets, methods
    from .config import available_presets
    from .datasets.galaxy_zoo import SCHEMES as GZ_SCHEMES

    def section(title, rows):
        print(f"{title}:")
        for name, text in rows or [("(none registered yet)", "")]:
            print(f"  {name:<18s} {text}")

    section("datasets", [(n, datasets.DATASETS.describe(n)) for n in datasets.available()])
    section("loaders", [(n, datasets.LOADERS.describe(n)) for n in datasets.available_loaders()])
    schemes = [
        (name, " -> ".join(f"{s} ({len(tax.classes(s))})" for s in tax.schemes))
        for name, tax in datasets.SCHEMES.items()
    ]
    schemes += [(f"galaxy-zoo:{s}", ", ".join(c)) for s, c in GZ_SCHEMES.items()]
    section("label schemes", schemes)
    section("feature sets", [(n, features.FEATURES.describe(n)) for n in features.available()])
    for kind, title in (("classical", "baselines"), ("deep", "deep models")):
        names = methods.available(kind=kind)
        section(title, [(n, methods.spec(n).help) for n in names])
    section("presets", [(p, "") for p in available_presets()])
    return 0


def _cmd_info(args) -> int:
    """Versions, the CNNs' Keras backend and devices, and an unused GPU."""
    import platform

    from . import __version__

    print(f"astrobench {__version__}, Python {platform.python_version()}")
    print(f"cores: {os.cpu_count()}")
    try:
        from deep.devices import backend_info

        info = backend_info()
    except ImportError as exc:  # MissingDependencyError: no Keras 3
        print(f"CNNs: unavailable ({exc})")
        return 0
    print(f"CNNs: Keras {info['keras']}, backend {info['backend']}")
    print(f"devices: {', '.join(info['devices']) or 'none found'}")
    print(
        f"GPU: {'used' if info['gpu'] else 'none used'}"
        f"{' (the machine has one)' if info['gpu_present'] else ''}"
    )
    if info["warning"]:
        print(f"warning: {info['warning']}")
    return 0


def _check_file(args, owned, what: str):
    from .outputs import check_output_file

    source = getattr(args, "source", None)
    inputs = [source] if source and Path(source).exists() else []
    return check_output_file(args.output, force=args.force, owned=owned, inputs=inputs, what=what)


def _cmd_data(args) -> int:
    if args.data_command == "info":
        print(_load(args).summary())
        return 0
    if args.data_command == "prepare":
        from .datasets import write_store
        from .datasets.store import is_store

        out = _check_file(args, is_store, "store")
        ds = _load(args)
        write_store(ds, out, overwrite=args.force, progress=not args.quiet)
        print(f"wrote {args.output} ({len(ds)} images, fingerprint {ds.fingerprint})")
        return 0
    if args.data_command == "split":
        from .splits import is_split_file, make_split

        _check_file(args, is_split_file, "split")
        ds = _load(args)
        split = make_split(
            ds,
            seed=args.seed,
            test_size=args.test_size,
            val_size=args.val_size,
            group_column=args.group_column,
        )
        split.save(args.output, overwrite=args.force)
        sizes = ", ".join(f"{k} {v}" for k, v in split.sizes().items())
        print(f"wrote {args.output}: {split.method} split {split.id} ({sizes})")
        return 0
    if args.data_command == "simulate":
        return _cmd_simulate(args)
    if args.data_command == "gallery":
        from .gallery import write_gallery
        from .outputs import png_written_by_us

        _check_file(args, png_written_by_us, "gallery")
        beside = None
        if args.beside:
            from . import datasets

            beside = datasets.load(args.beside, progress=not args.quiet)
        write_gallery(
            _load(args), args.output, per_class=args.per_class, seed=args.seed, beside=beside
        )
        print(f"wrote {args.output}")
        return 0
    build_parser().parse_args(["data", "--help"])
    return EXIT_ERROR


def _cmd_simulate(args) -> int:
    import shutil

    from . import simulate
    from ._io import atomic_path
    from .datasets.store import is_store

    if args.name not in simulate.available():
        from .errors import UnknownNameError

        msg = f"unknown simulation {args.name!r}; valid: {', '.join(simulate.available())}"
        raise UnknownNameError(msg)
    out = _check_file(args, is_store, "store")
    params = dict(args.params)
    for key in ("n", "layout", "mode"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    cached = simulate.simulated_path(
        args.name, seed=args.seed, n_jobs=args.jobs, progress=not args.quiet, **params
    )
    with atomic_path(out) as tmp:
        shutil.copyfile(cached, tmp)
    print(f"wrote {args.output} (cached as {cached})")
    return 0


def _cmd_run(args) -> int:
    from reports import build_report

    from .config import load_experiment
    from .runner import run_experiment

    config = load_experiment(
        args.experiment,
        quick=args.quick,
        data=args.data,
        loader=args.loader,
        dataset_params=dict(args.params),
        methods=args.methods,
        features=args.features,
        seeds=args.seeds,
        sweep=args.sweep,
        train_sizes=args.train_sizes,
        save_models=args.save_models,
        threshold=args.threshold,
    )
    from .executors import parse_resources

    deep_resources = parse_resources(args.deep_resources)
    experiment_file = Path(args.experiment)
    done = {}

    def finish(store):  # under the results folder's write lock, like the runs
        from .api import write_tables

        done["table"] = write_tables(store)
        done["report"] = build_report(store.root)

    store = run_experiment(
        config,
        out=args.out,
        jobs=args.jobs,
        force=args.force,
        progress=not args.quiet,
        inputs=[experiment_file] if experiment_file.is_file() else [],
        finish=finish,
        scheduler=args.scheduler,
        deep_resources=deep_resources,
    )
    from .review import summary

    print(done["table"])
    line = summary(store.label_review(), store.root / "label_review.csv")
    if line:
        print(f"\n{line}")
    print(f"\nresults: {store.root}\nreport:  {done['report']}")
    return 0


def _cmd_predict(args) -> int:
    from .scoring import check_scores_path, load_model, predict, write_scores

    check_scores_path(args.output, force=args.force)  # before anything is read or scored
    model = load_model(args.model)
    scores = predict(
        model,
        list(args.inputs),
        batch_size=args.batch_size,
        threshold=args.threshold,
        loader=args.loader,
        skip_bad=args.skip_bad,
        progress=not args.quiet,
        params=dict(args.params),
    )
    path = write_scores(scores, args.output, force=args.force)
    counts = scores["predicted"].value_counts().to_dict()
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"wrote {path}: {len(scores)} stamps scored by {model.spec['run_id']} ({summary})")
    skipped = scores.attrs.get("skipped", [])
    if skipped:
        names = ", ".join(skipped[:20]) + (", ..." if len(skipped) > 20 else "")
        print(f"skipped {len(skipped)} stamp(s) with non-finite pixels or unreadable: {names}")
    return 0


def _cmd_report(args) -> int:
    from reports import build_report

    from .results import ResultsStore

    if ResultsStore(args.results).is_store() or not Path(args.results).is_dir():
        from .locks import check_not_in_use

        check_not_in_use(args.results)  # a run still writing there: its results are partial
        print(f"wrote {build_report(args.results, args.output)}")
        return 0
    from reports.landing import build_landing

    print(f"wrote {build_landing(args.results, args.output)}")
    return 0


def _interrupted(exc: BaseException) -> bool:
    """True if Ctrl-C is what raised ``exc`` (directly or as its cause)."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _dispatch(args, parser) -> int:
    _check_packages()
    commands = {
        "list": _cmd_list,
        "info": _cmd_info,
        "data": _cmd_data,
        "run": _cmd_run,
        "predict": _cmd_predict,
        "report": _cmd_report,
    }
    if args.command not in commands:
        parser.print_help()
        return EXIT_ERROR
    return commands[args.command](args)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed on one line
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    _setup_logging(args.quiet, args.debug)
    command = " ".join(filter(None, [args.command, getattr(args, "data_command", None)]))
    try:
        return _dispatch(args, parser)
    except AstrobenchError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # the system refused: no permission, disk full, ...
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except BaseException as exc:
        if args.debug or isinstance(exc, SystemExit | GeneratorExit):
            raise
        if _interrupted(exc):
            print("interrupted; run the same command again to resume", file=sys.stderr)
            return EXIT_INTERRUPTED
        if not isinstance(exc, Exception):
            raise
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        detail = f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
        print(
            f"error: internal error in {command or 'astrobench'} ({detail}); "
            f"rerun with --debug and report it",
            file=sys.stderr,
        )
        return EXIT_BUG

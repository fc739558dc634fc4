"""The ``python -m benchmark`` command line.

Errors on bad input are printed as one line (``error: ...``) with exit status 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .errors import AstrobenchError

__all__ = ["main", "parse_param"]

log = logging.getLogger("benchmark")

EXIT_ERROR = 2


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmark",
        description="astrobench: classical classifiers versus CNNs on astronomical images.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only results and errors")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="list datasets, loaders, label schemes, features, models, presets")

    run = sub.add_parser("run", help="run an experiment and print the comparison table")
    run.add_argument(
        "experiment",
        nargs="?",
        default="du-buisson-2015",
        help="preset name or experiment TOML (default: du-buisson-2015)",
    )
    run.add_argument("--data", help="run the preset on this real data path instead")
    run.add_argument("--methods", nargs="+", help="only these methods")
    run.add_argument("--features", nargs="+", help="only these feature sets")
    run.add_argument("--seeds", type=int, help="repeat with this many seeds")
    run.add_argument("--jobs", type=int, default=-1, help="parallel runs (default: all cores)")
    run.add_argument("--out", help="results folder (default: results/<experiment>)")
    run.add_argument("--quick", action="store_true", help="small, fast profile")
    run.add_argument("--force", action="store_true", help="redo finished runs / replace results")

    report = sub.add_parser("report", help="rebuild the HTML report of a results folder")
    report.add_argument("results", help="results folder")
    report.add_argument("-o", "--output", help="report folder (default: RESULTS/report)")

    data = sub.add_parser("data", help="inspect, convert, split and simulate datasets")
    dsub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    info = dsub.add_parser("info", help="print a dataset's shape, classes and counts")
    _add_source(info)
    prep = dsub.add_parser("prepare", help="convert any source into the canonical HDF5 store")
    _add_source(prep)
    prep.add_argument("-o", "--output", required=True, help="output .h5 file")
    prep.add_argument("--force", action="store_true", help="replace an existing output file")
    split = dsub.add_parser("split", help="make a seeded stratified split and save it as JSON")
    _add_source(split)
    split.add_argument("-o", "--output", required=True, help="output .json file")
    split.add_argument("--seed", type=int, default=0)
    split.add_argument("--test-size", type=float, default=0.25)
    split.add_argument("--val-size", type=float, default=0.30)
    split.add_argument("--force", action="store_true", help="replace an existing output file")
    sim = dsub.add_parser("simulate", help="simulate a dataset (sim-sdss-sn, sim-galaxy10)")
    sim.add_argument("name", help="sim-sdss-sn or sim-galaxy10")
    sim.add_argument("--n", type=int, help="number of images")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--layout", help="sim-sdss-sn: gri (default) or triplet")
    sim.add_argument("--mode", help="sim-galaxy10: galaxy10 (default) or gz4")
    sim.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    _add_params(sim, "other simulator parameter (repeatable)")
    sim.add_argument("-o", "--output", required=True, help="output .h5 file")
    sim.add_argument("--force", action="store_true", help="replace an existing output file")
    gal = dsub.add_parser("gallery", help="write a PNG grid of examples per class")
    _add_source(gal)
    gal.add_argument("-o", "--output", required=True, help="output .png file")
    gal.add_argument("--per-class", type=int, default=8)
    gal.add_argument("--seed", type=int, default=0)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the message."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _setup_logging(quiet: bool) -> None:
    for name in ("benchmark", "features", "baselines", "deep", "reports"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING if quiet else logging.INFO)
        if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.propagate = False
    # TensorFlow's C++ start-up notices and its tf.function re-tracing advice (each new
    # model traces afresh) are noise on the terminal; real errors still come through
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _load(args):
    from . import datasets

    loader = args.loader
    if loader is None and args.source not in datasets.DATASETS:
        loader = datasets.detect(args.source)
        if not args.quiet:
            print(f"format: {loader} (detected; override with --loader)", file=sys.stderr)
    return datasets.load(
        args.source,
        loader=loader,
        scheme=args.scheme,
        drop_classes=args.drop_classes,
        progress=not args.quiet,
        **dict(args.params),
    )


def _cmd_list(args) -> int:
    import baselines
    import deep
    import features

    from . import datasets
    from .datasets.galaxy_zoo import SCHEMES as GZ_SCHEMES

    def section(title, rows):
        print(f"{title}:")
        if not rows:
            print("  (none registered yet)")
        for name, text in rows:
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
    section("baselines", [(n, baselines.BASELINES.describe(n)) for n in baselines.available()])
    section("deep models", [(n, deep.MODELS.describe(n)) for n in deep.available()])
    presets = sorted(p.stem for p in (Path(__file__).parent / "presets").glob("*.toml"))
    section("presets", [(p, "") for p in presets])
    return 0


def _cmd_data(args) -> int:
    if args.data_command == "info":
        ds = _load(args)
        print(ds.summary())
        return 0
    if args.data_command == "prepare":
        from .datasets import write_store

        out = Path(args.output)
        if out.exists() and not args.force:
            msg = f"{out} already exists; choose another output path or pass --force"
            raise FileExistsError(msg)
        ds = _load(args)
        write_store(ds, out, overwrite=args.force, progress=not args.quiet)
        print(f"wrote {out} ({len(ds)} images, fingerprint {ds.fingerprint})")
        return 0
    if args.data_command == "split":
        from .splits import make_split

        ds = _load(args)
        split = make_split(ds, seed=args.seed, test_size=args.test_size, val_size=args.val_size)
        split.save(args.output, overwrite=args.force)
        sizes = ", ".join(f"{k} {v}" for k, v in split.sizes().items())
        print(f"wrote {args.output}: {split.method} split {split.id} ({sizes})")
        return 0
    if args.data_command == "simulate":
        return _cmd_simulate(args)
    if args.data_command == "gallery":
        from .gallery import write_gallery

        path = write_gallery(_load(args), args.output, per_class=args.per_class, seed=args.seed)
        print(f"wrote {path}")
        return 0
    build_parser().parse_args(["data", "--help"])
    return EXIT_ERROR


def _cmd_run(args) -> int:
    from .config import load_experiment
    from .runner import run_experiment
    from .tables import comparison_table, write_tables

    config = load_experiment(args.experiment, quick=args.quick, data=args.data)
    config = config.select(methods=args.methods, features=args.features, seeds=args.seeds)
    store = run_experiment(
        config, out=args.out, jobs=args.jobs, force=args.force, progress=not args.quiet
    )
    table = comparison_table(store.records(), published=config.published)
    title = f"{config.name}: {config.description}" if config.description else config.name
    print(write_tables(store, table, title))
    from reports import build_report

    print(f"\nresults: {store.root}\nreport:  {build_report(store.root)}")
    return 0


def _cmd_simulate(args) -> int:
    import shutil

    from . import simulate

    if args.name not in simulate.GENERATORS:
        from .errors import UnknownNameError

        msg = f"unknown simulation {args.name!r}; valid: {', '.join(simulate.GENERATORS)}"
        raise UnknownNameError(msg)
    out = Path(args.output)
    if out.exists() and not args.force:
        msg = f"{out} already exists; choose another output path or pass --force"
        raise FileExistsError(msg)
    params = dict(args.params)
    for key in ("n", "layout", "mode"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    cached = simulate.simulated_path(
        args.name, seed=args.seed, n_jobs=args.jobs, progress=not args.quiet, **params
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.copyfile(cached, tmp)
    tmp.replace(out)
    print(f"wrote {out} (cached as {cached})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.quiet)
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "report":
            from reports import build_report

            print(f"wrote {build_report(args.results, args.output)}")
            return 0
        parser.print_help()
        return EXIT_ERROR
    except (AstrobenchError, FileExistsError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR

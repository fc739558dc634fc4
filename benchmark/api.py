"""The Python API: run an experiment, or open a finished one, and read its answer.

In a notebook::

    from benchmark import run, load
    res = run("du-buisson-2015", quick=True)   # or a .toml path, or an ExperimentConfig
    res                                         # shows the verdict and the table (Jupyter)
    res.table()                                 # our rows and the published ones (DataFrame)
    res.records()                               # one row per run (DataFrame)
    res.verdict, res.crossover                  # the answer, and the sweep's crossover
    res = load("results/du-buisson-2015")       # the same object for a finished experiment

Everything is read through the results store, so ``load`` gives exactly what ``run``
gave, and what ``python -m benchmark run`` printed.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

import pandas as pd

from .errors import MissingPathError
from .results import ResultsStore

__all__ = ["Results", "load", "run", "write_tables"]


class Results:
    """A finished experiment: its table, records, verdict and learning curves.

    Parameters
    ----------
    root : path
        A results folder written by :func:`run` or ``python -m benchmark run``.
    """

    def __init__(self, root):
        self.store = ResultsStore(root)
        if not (self.store.is_store() and self.store.records()):
            msg = f"{self.store.root}: no results found; run the experiment first"
            raise MissingPathError(msg)

    def __repr__(self) -> str:
        return f"Results({str(self.store.root)!r})"

    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def name(self) -> str:
        return self.store.config().get("name", self.root.name)

    @functools.cached_property
    def analysis(self):
        """The statistics behind the table (:class:`benchmark.verdict.Analysis`)."""
        from .verdict import analyse

        return analyse(self.store, self.store.records())

    @functools.cached_property
    def curves(self):
        """The learning curves (:class:`benchmark.curves.LearningCurves`), or ``None``
        when the experiment ran no sweep."""
        from .curves import learning_curves

        return learning_curves(self.store)

    @property
    def verdict(self) -> str:
        """Best classical method against best CNN, with the difference, its CI and p-value."""
        return self.analysis.verdict

    @property
    def headline(self) -> str:
        """The verdict in one plain sentence."""
        from .verdict import headline

        return headline(self.analysis)

    @property
    def crossover(self):
        """The sweep's crossover (:class:`benchmark.curves.Crossover`), or ``None``."""
        return None if self.curves is None else self.curves.crossover

    def table(self, published: bool = True) -> pd.DataFrame:
        """The comparison table: our rows (and the published ones beside them)."""
        from .tables import comparison_table

        config = self.store.config()
        return comparison_table(
            self.store.records(),
            published=config.get("published") if published else None,
            analysis=self.analysis,
        )

    def records(self, *, sweep: bool = False) -> pd.DataFrame:
        """One row per run (metrics flattened to ``metrics.<name>``); ``sweep`` adds the
        runs on a sweep's training subsets."""
        records = [
            {k: v for k, v in r.items() if k not in ("tuning", "history", "importances")}
            for r in self.store.records(sweep=sweep)
        ]
        return pd.json_normalize(records)

    def label_review(self) -> pd.DataFrame:
        """Test images nearly every run misclassifies (:func:`benchmark.review.label_review`):
        candidates for a look at their labels. Computed from the stored predictions when
        the folder predates the review."""
        from .review import label_review

        review = self.store.label_review()
        return label_review(self.store) if review is None else review

    def learning_curves(self) -> pd.DataFrame:
        """The learning curves as a long table (method, feature, n_train, value, lo, hi)."""
        if self.curves is None:
            return pd.DataFrame(columns=["feature", "method", "kind", "n_train", "value"])
        return pd.DataFrame(
            [
                {k: c[k] for k in ("feature", "method", "kind")} | p
                for c in self.curves.curves
                for p in c["points"]
            ]
        )

    def _repr_html_(self) -> str:
        from .tables import _rows

        header, body = _rows(self.table())
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"
            for cells in body
        )
        parts = [
            f"<h4>{html.escape(self.name)}</h4>",
            f"<p><strong>{html.escape(self.headline)}</strong></p>",
            f"<p>{html.escape(self.verdict)}</p>",
        ]
        if self.analysis.shortcut:
            parts.append(f"<p><em>{html.escape(self.analysis.shortcut)}</em></p>")
        if self.crossover is not None:
            parts.append(f"<p>{html.escape(self.crossover.text)}</p>")
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        return "\n".join(parts)


def load(root) -> Results:
    """The :class:`Results` of a finished experiment's folder."""
    return Results(root)


def write_tables(store) -> str:
    """The comparison table with its statistics (and learning curves after a sweep):
    ``table.csv`` and ``table.md`` into the store; returns the text for the terminal."""
    from .curves import learning_curves, render_curves
    from .tables import comparison_table, render_markdown, render_text
    from .verdict import analyse

    config = store.config()
    records = store.records()
    analysis = analyse(store, records)
    table = comparison_table(records, published=config.get("published"), analysis=analysis)
    title = config["name"] + (f": {config['description']}" if config.get("description") else "")
    # wall-clock seconds stay out of table.csv (they live in each run's timings.json), so
    # that the same experiment run twice writes byte-identical tables
    csv_text = table.drop(columns=["fit_s"], errors="ignore").to_csv(index=False)
    markdown, text = render_markdown(table, title, analysis), render_text(table, title, analysis)
    curves = learning_curves(store)
    if curves is not None:
        markdown += "\n" + render_curves(curves, markdown=True)
        text += "\n\n" + render_curves(curves)
    store.write_tables(csv_text, markdown)
    return text


def run(
    experiment="du-buisson-2015",
    *,
    quick: bool = False,
    sweep: bool = False,
    train_sizes=None,
    data=None,
    dataset_params: dict | None = None,
    methods=None,
    features=None,
    seeds: int | None = None,
    threshold: str | None = None,
    out=None,
    jobs: int = 1,
    force: bool = False,
    progress: bool = True,
    report: bool = False,
    scheduler: str | None = None,
    deep_resources: dict | None = None,
) -> Results:
    """Run an experiment (resuming any finished runs in ``out``) and return its results.

    Parameters
    ----------
    experiment : str, path or ExperimentConfig
        A preset name, an experiment TOML file or a validated config.
    quick, sweep, train_sizes, data, methods, features, seeds, threshold
        As ``python -m benchmark run``'s options (``sweep``: the preset's learning-curve
        profile; ``train_sizes``: fractions of the training part or counts).
    dataset_params : dict, optional
        Dataset parameters and preprocessing options over the experiment's (``-p``),
        e.g. ``{"crop": 0.5}``; a value of None removes one.
    out : path, optional
        Results folder (default ``results/<experiment name>``).
    jobs : int
        Parallel runs (1 by default here; -1: every core).
    force : bool
        Replace results astrobench wrote for another configuration in ``out``.
    report : bool
        Also write the HTML report.
    scheduler : str, optional
        Run on a Dask cluster: ``"tcp://HOST:PORT"`` or ``"local:N"`` (``--scheduler``).
    deep_resources : dict, optional
        Dask worker resources each CNN run claims, e.g. ``{"GPU": 1}``.
    """
    from .config import ExperimentConfig, load_experiment
    from .runner import run_experiment

    if isinstance(experiment, ExperimentConfig):
        config = experiment
        given = (quick, sweep, train_sizes is not None, data is not None, dataset_params)
        if any(given) or threshold is not None:
            msg = (
                "quick, sweep, train_sizes, data, dataset_params and threshold apply to a "
                "preset or a TOML file"
            )
            raise ValueError(msg)
        config = config.select(methods=methods, features=features, seeds=seeds)
        inputs = []
    else:
        config = load_experiment(
            experiment,
            quick=quick,
            data=data,
            dataset_params=dataset_params,
            methods=methods,
            features=features,
            seeds=seeds,
            sweep=sweep,
            train_sizes=train_sizes,
            threshold=threshold,
        )
        path = Path(str(experiment))
        inputs = [path] if path.is_file() else []

    def finish(store):  # under the results folder's write lock
        write_tables(store)
        if report:
            from reports import build_report

            build_report(store.root)

    store = run_experiment(
        config,
        out=out,
        jobs=jobs,
        force=force,
        progress=progress,
        inputs=inputs,
        finish=finish,
        scheduler=scheduler,
        deep_resources=deep_resources,
    )
    return Results(store.root)

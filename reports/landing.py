"""The landing page over a folder of experiments: one row per results folder, linking its report.

``python -m benchmark report results/`` on a folder whose sub-folders are results
folders writes ``results/index.html``: the leaderboard a group keeps across its data
sets (data set, simulated or real, best classical, best CNN, verdict, crossover, date).
A sub-folder without a report gets one first.  The page carries a generator mark, so a
later call replaces it while a file of the user's with that name is never touched.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from benchmark._io import atomic_write
from benchmark.errors import MissingPathError
from benchmark.outputs import check_output_file
from benchmark.results import ResultsStore

from ._common import env

__all__ = ["GENERATOR", "build_landing", "experiment_row", "result_folders"]

log = logging.getLogger(__name__)

#: Marks a landing page astrobench wrote (the write rule's ownership test).
GENERATOR = "astrobench experiment index"


def _is_landing_page(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR}">' in head


def result_folders(folder) -> list[Path]:
    """The results folders directly inside ``folder`` that hold finished runs, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [
        p
        for p in sorted(folder.iterdir())
        if p.is_dir() and ResultsStore(p).is_store() and ResultsStore(p).records()
    ]


def experiment_row(store: ResultsStore, report: Path, base: Path) -> dict:
    """One experiment's row: what it ran on, its best of each side, verdict and crossover."""
    from benchmark.curves import learning_curves
    from benchmark.verdict import analyse, headline

    records = store.records()
    config, meta = store.config(), store.metadata()
    data = store.dataset_summary() or {}
    analysis = analyse(store, records)
    name = "AUC" if analysis.metric == "auc" else "macro-F1"

    def best(group):
        if group is None:
            return "—"
        import numpy as np

        value = np.mean([r["metrics"][analysis.metric] for r in group.records])
        dagger = " †" if group.budget_limited else ""
        return f"{group.label}{dagger} ({name} {value:.3f})"

    curves = learning_curves(store)
    if curves is None:
        crossover = "no sweep"
    elif curves.crossover.n_train is not None:
        crossover = f"{curves.crossover.n_train:,} training images"
    else:
        crossover = "none within the data"
    winner = analysis.summary.get("winner") if analysis.summary else None
    return {
        "name": config.get("name", store.root.name),
        "link": Path(os.path.relpath(report, base)).as_posix(),
        "dataset": data.get("name") or records[0]["dataset"],
        "simulated": bool(data.get("simulated", records[0].get("simulated"))),
        "n_test": records[0]["sizes"]["test"],
        "classical": best(analysis.classical),
        "deep": best(analysis.deep),
        "winner": {"deep": "CNN", "classical": "classical"}.get(winner, "no clear winner"),
        "verdict": headline(analysis),
        "shortcut": bool(analysis.shortcut),
        "crossover": crossover,
        "date": str(meta.get("created", ""))[:10],
    }


def build_landing(folder, out=None) -> Path:
    """Write the landing page of the experiments in ``folder`` (default ``folder/index.html``).

    Raises
    ------
    MissingPathError
        When ``folder`` holds no results folder.
    OutputRefusedError
        When ``out`` exists and is not a landing page astrobench wrote.
    """
    from .builder import build_report

    folder = Path(folder)
    stores = result_folders(folder)
    if not stores:
        msg = (
            f"{folder}: no results found: neither a results folder nor a folder of them; give "
            f"a folder written by `python -m benchmark run` (or one that holds several)"
        )
        raise MissingPathError(msg)
    out = Path(out) if out else folder / "index.html"
    check_output_file(out, force=True, owned=_is_landing_page, what="landing page")
    rows = []
    for path in stores:
        store = ResultsStore(path)
        report = store.report_dir / "index.html"
        if not report.is_file():
            report = build_report(path)
        rows.append(experiment_row(store, report.absolute(), out.parent.absolute()))
    html = (
        env()
        .get_template("landing.html.j2")
        .render(
            title=f"astrobench experiments in {folder.resolve().name}",
            rows=rows,
            generator=GENERATOR,
        )
    )
    atomic_write(out, html)
    log.info("landing page of %d experiments written to %s", len(rows), out)
    return out

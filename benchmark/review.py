"""Label review: the test images that nearly every run gets wrong.

Survey labels are rarely clean: Galaxy Zoo's come from thresholded volunteer votes,
real/bogus labels from hand scanning.  When nearly every run of an experiment (classical
methods and CNNs, every seed) puts a test image in the same class other than its label,
either the image is genuinely hard or its label is wrong; either way a person should look.
:func:`label_review` lists those images from the stored test predictions (the
shortcut check left out); the runner writes them to ``label_review.csv`` and the
report shows them.  It changes no metric: every figure in the tables is still
measured against the labels as given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "MIN_FRACTION", "MIN_RUNS", "label_review", "summary"]

#: An image is listed when at least this fraction of the runs misclassify it.
MIN_FRACTION = 0.9
#: Fewer runs than this make no consensus: nothing is listed.
MIN_RUNS = 3

#: The columns of a review, in order (``label_review.csv``).
COLUMNS = ["id", "label", "consensus", "wrong_fraction", "n_runs", "label_score"]


def label_review(store, records=None, *, min_fraction: float = MIN_FRACTION) -> pd.DataFrame:
    """Test images misclassified by at least ``min_fraction`` of the runs.

    Parameters
    ----------
    store : ResultsStore
    records : list of dict, optional
        The runs to pool (default: every finished run on the whole training part).
        The shortcut check is always left out: it is meant to be weak.
    min_fraction : float
        Fraction of the runs, in (0, 1], that must misclassify an image.

    Returns
    -------
    pandas.DataFrame
        One row per listed image, most consistent first: ``id``, ``label`` (its class),
        ``consensus`` (the class most runs give it), ``wrong_fraction``, ``n_runs`` (runs
        that scored it) and ``label_score`` (the runs' mean probability of its label).
        Empty when fewer than :data:`MIN_RUNS` runs scored the images.
    """
    if not 0 < min_fraction <= 1:
        msg = f"min_fraction must be in (0, 1], got {min_fraction!r}"
        raise ValueError(msg)
    records = store.records() if records is None else records
    records = [r for r in records if not r.get("shortcut_detector")]
    if not records:
        return pd.DataFrame(columns=COLUMNS)
    classes = list(records[0]["classes"])
    frames = []
    for r in records:
        p = store.predictions(r["run_id"])
        scores = p[[f"score_{k}" for k in range(len(classes))]].to_numpy(float)
        y = p["y_true"].to_numpy(int)
        frames.append(
            pd.DataFrame(
                {
                    "id": p["id"].astype(str),
                    "y": y,
                    "predicted": scores.argmax(axis=1),
                    "label_score": scores[np.arange(len(y)), y],
                }
            )
        )
    pooled = pd.concat(frames, ignore_index=True)
    pooled["wrong"] = pooled["predicted"] != pooled["y"]
    grouped = pooled.groupby("id", sort=True)
    out = grouped.agg(
        y=("y", "first"),
        wrong_fraction=("wrong", "mean"),
        n_runs=("wrong", "size"),
        label_score=("label_score", "mean"),
    )
    # the class most runs give the image (ties: the lower class index)
    votes = pooled.groupby(["id", "predicted"]).size().unstack(fill_value=0)
    votes = votes.loc[out.index]
    out["consensus"] = votes.columns.to_numpy()[votes.to_numpy().argmax(axis=1)]
    out = out[(out["n_runs"] >= MIN_RUNS) & (out["wrong_fraction"] >= min_fraction - 1e-12)]
    out = out.sort_values(["wrong_fraction", "label_score"], ascending=[False, True])
    names = np.asarray(classes, dtype=object)
    return pd.DataFrame(
        {
            "id": out.index.astype(str),
            "label": names[out["y"].to_numpy(int)],
            "consensus": names[out["consensus"].to_numpy(int)],
            "wrong_fraction": out["wrong_fraction"].to_numpy(float),
            "n_runs": out["n_runs"].to_numpy(int),
            "label_score": out["label_score"].to_numpy(float),
        },
        columns=COLUMNS,
    )


def summary(review: pd.DataFrame | None, where) -> str | None:
    """One line for the terminal about a non-empty review (``None`` otherwise)."""
    if review is None or not len(review):
        return None
    fraction = review["wrong_fraction"].min()
    return (
        f"label review: {len(review)} test image(s) misclassified by at least "
        f"{fraction:.0%} of the {int(review['n_runs'].max())} runs; check their labels "
        f"({where}, and the report)"
    )

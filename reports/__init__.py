"""Self-contained HTML reports built from a results store.

``build_report(results_dir)`` writes ``<results_dir>/report/index.html``, one page
per (feature set, method) and PNG figures; it reads only the results store.
"""

from __future__ import annotations

__all__ = ["build_report"]


def build_report(results_dir, out=None, *, jobs: int = -1):
    """See :func:`reports.builder.build_report`."""
    from .builder import build_report as _build

    return _build(results_dir, out, jobs=jobs)

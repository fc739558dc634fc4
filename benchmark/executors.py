"""Executors: how the runner's jobs are scheduled, and nothing else.

An executor has one method, ``map(fn, jobs, *, heavy=False)``, yielding ``fn(job)``
for each job (in any order: each result names its run).  ``heavy`` jobs use every
core themselves (CNN training), so local executors run them one at a time in this
process.  The runner hands every executor the same function,
:func:`benchmark.runs.execute`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

__all__ = ["JoblibExecutor", "SerialExecutor", "make_executor"]


class SerialExecutor:
    """Every job in this process, one after another."""

    def map(self, fn: Callable, jobs: Iterable, *, heavy: bool = False) -> Iterator:
        for job in jobs:
            yield fn(job)


class JoblibExecutor:
    """Light jobs in parallel worker processes (joblib/loky); heavy ones in this process.

    Parameters
    ----------
    n_jobs : int
        Workers (-1: one per core).
    """

    def __init__(self, n_jobs: int = -1):
        self.n_jobs = n_jobs

    def map(self, fn: Callable, jobs: Iterable, *, heavy: bool = False) -> Iterator:
        if heavy or self.n_jobs == 1:
            yield from SerialExecutor().map(fn, jobs)
            return
        from joblib import Parallel, delayed

        runner = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        yield from runner(delayed(fn)(job) for job in jobs)


def make_executor(jobs: int = 1):
    """The local executor for ``--jobs`` (1: serial; other values: joblib workers)."""
    return SerialExecutor() if jobs in (0, 1) else JoblibExecutor(jobs)

"""Executors: how the runner's jobs are scheduled, and nothing else.

An executor has one method, ``map(fn, jobs, *, heavy=False)``, yielding ``fn(job)``
for each job (in any order: each result names its run).  ``heavy`` jobs use every
core themselves (CNN training), so local executors run them one at a time in this
process.  The runner hands every executor the same function,
:func:`benchmark.runs.execute`.

An executor whose ``remote`` is true runs jobs in other processes that may be on other
machines (:class:`DaskExecutor`): the runner then gives it every job at once, each
carrying its data by reference (the images as a lazy view of an HDF5 file, feature
matrices as ``.npy`` files) rather than the arrays, and a job's own ``heavy`` flag.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator

from .errors import ConfigError

__all__ = [
    "DaskExecutor",
    "JoblibExecutor",
    "SerialExecutor",
    "make_executor",
    "parse_resources",
]

log = logging.getLogger(__name__)


class SerialExecutor:
    """Every job in this process, one after another."""

    remote = False

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

    remote = False

    def __init__(self, n_jobs: int = -1):
        self.n_jobs = n_jobs

    def map(self, fn: Callable, jobs: Iterable, *, heavy: bool = False) -> Iterator:
        if heavy or self.n_jobs == 1:
            yield from SerialExecutor().map(fn, jobs)
            return
        from joblib import Parallel, delayed

        runner = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        yield from runner(delayed(fn)(job) for job in jobs)


_LOCAL = re.compile(r"^local(?::(\d+))?$")


class DaskExecutor:
    """Jobs on a Dask distributed cluster: an existing one, or a ``LocalCluster``.

    Every job is submitted at once; the scheduler places them, and a job whose worker
    dies is run again elsewhere (Dask's own retry).  Results come back to this process,
    which alone writes the results store.  Workers read each job's data from the paths it
    names, so the results folder and astrobench's cache must be on a filesystem they
    share (the rule on any HPC cluster; automatic with ``local:N``).

    Parameters
    ----------
    scheduler : str
        ``tcp://HOST:PORT`` (any address ``distributed.Client`` takes) of a running
        scheduler, or ``local:N`` to start a ``LocalCluster`` of N single-threaded worker
        processes (``local``: one per core).
    deep_resources : dict, optional
        Worker resources each CNN run claims, e.g. ``{"GPU": 1}``: CNN runs then go only
        to workers started with them (``dask worker ... --resources GPU=1``).  With
        ``local:N`` every local worker is given them.
    timeout : float
        Seconds to wait for the scheduler.
    """

    remote = True

    def __init__(self, scheduler: str, *, deep_resources: dict | None = None, timeout=30):
        check_scheduler(scheduler)
        self.scheduler = scheduler
        self.deep_resources = dict(deep_resources or {})
        self.timeout = timeout
        self._client = None
        self._cluster = None

    # ------------------------------------------------------------------ connection
    @property
    def client(self):
        """The ``distributed.Client`` (connected, or the local cluster started, on first use)."""
        self.connect()
        return self._client

    def connect(self) -> None:
        """Connect to the scheduler (or start the local cluster) now, if not done yet."""
        if self._client is None:
            self._connect()

    def _connect(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ModuleNotFoundError as exc:
            from .errors import MissingDependencyError

            msg = (
                f"--scheduler needs the optional package 'dask[distributed]'; install it "
                f'with: pip install "astrobench[distributed]" ({exc})'
            )
            raise MissingDependencyError(msg) from None
        local = _LOCAL.match(self.scheduler)
        if local:
            import os

            n = int(local.group(1) or os.cpu_count() or 1)
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",  # a free port: never "8787 is in use"
                resources=self.deep_resources or None,
            )
            self._client = Client(self._cluster)
            log.info("local Dask cluster: %d workers; dashboard %s", n, self._client.dashboard_link)
            return
        try:
            _probe(self.scheduler)
            self._client = Client(self.scheduler, timeout=self.timeout)
        except (OSError, TimeoutError) as exc:
            msg = (
                f"could not reach the Dask scheduler at {self.scheduler} ({exc}); start one "
                f"(`dask scheduler`, or dask-jobqueue on a cluster) and pass its address, "
                f"or use --scheduler local:N"
            )
            raise ConfigError(msg) from None

    def describe(self) -> dict:
        """The scheduler and its workers (for ``metadata.json``)."""
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        return {
            "scheduler": self.scheduler,
            "workers": len(workers),
            "threads": sum(w.get("nthreads", 0) for w in workers.values()),
            "deep_resources": self.deep_resources or None,
        }

    def close(self) -> None:
        """Disconnect (and stop the local cluster, if this executor started one)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ work
    def map(self, fn: Callable, jobs: Iterable, *, heavy: bool = False) -> Iterator:
        from distributed import as_completed

        client = self.client
        futures = []
        for job in jobs:
            resources = self.deep_resources if (heavy or getattr(job, "heavy", False)) else None
            key = f"astrobench-{job.run.id}-{_token()}"
            futures.append(client.submit(fn, job, key=key, pure=False, resources=resources))
        try:
            for future in as_completed(futures):
                yield future.result()
                future.release()
        finally:
            for future in futures:  # stopped early (an error, ctrl-C): nothing left queued
                if not future.done():
                    future.cancel()


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail at once (``OSError``) when nothing listens at a ``tcp://HOST:PORT`` address
    (``distributed.Client`` would retry for its whole timeout first)."""
    import socket

    match = re.match(r"^tcp://\[?([^\]/]+?)\]?:(\d+)$", address)
    if match:
        socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout).close()


def _token() -> str:
    import uuid

    return uuid.uuid4().hex[:8]


def check_scheduler(scheduler: str) -> None:
    """Refuse a ``--scheduler`` that is neither ``local[:N]`` nor a scheduler address."""
    local = _LOCAL.match(scheduler)
    if local:
        if local.group(1) is not None and int(local.group(1)) < 1:
            msg = f"--scheduler {scheduler}: a local cluster needs at least 1 worker"
            raise ConfigError(msg)
        return
    if not re.match(r"^(tcp|tls|ucx|inproc|ws|wss)://[^\s/]+", scheduler):
        msg = (
            f"--scheduler {scheduler!r} is not a Dask scheduler address: give "
            f"tcp://HOST:PORT (a running scheduler) or local:N (N workers on this machine)"
        )
        raise ConfigError(msg)


def parse_resources(text: str | None) -> dict:
    """``"GPU=1,MEM=8e9"`` → ``{"GPU": 1.0, "MEM": 8e9}`` (Dask worker resources)."""
    out = {}
    for item in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, value = item.partition("=")
        try:
            amount = float(value)
        except ValueError:
            amount = -1.0
        if not sep or not name.strip() or amount <= 0:
            msg = (
                f"--deep-resources {text!r}: give NAME=AMOUNT pairs separated by commas, "
                f"with positive amounts (e.g. GPU=1)"
            )
            raise ConfigError(msg)
        out[name.strip()] = amount
    return out


def make_executor(jobs: int = 1, *, scheduler: str | None = None, deep_resources=None):
    """The executor for ``--jobs`` (1: serial; other values: joblib workers), or for
    ``--scheduler`` (a :class:`DaskExecutor`; ``--jobs`` is then the cluster's business)."""
    if scheduler:
        return DaskExecutor(scheduler, deep_resources=deep_resources)
    if deep_resources:
        msg = "--deep-resources needs --scheduler (they are Dask worker resources)"
        raise ConfigError(msg)
    return SerialExecutor() if jobs in (0, 1) else JoblibExecutor(jobs)

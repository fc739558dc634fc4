"""Experiments on a Dask cluster: the same records as a local run, one writer, resume,
a worker killed mid-experiment, GPU resources for CNN runs, clear errors."""

import importlib.util
import json
import os
import signal

import pytest
from experiments import SMALL as BASE

from benchmark.cli import main
from benchmark.config import load_experiment
from benchmark.errors import ConfigError
from benchmark.executors import DaskExecutor, check_scheduler, parse_resources
from benchmark.runner import run_experiment

#: The runner tests' experiment with a random forest added and two seeds.
SMALL = (
    BASE.replace('name = "small"', 'name = "small-dask"')
    .replace("decision-tree = {}\n", "decision-tree = {}\nrf = { n_estimators = 50 }\n")
    .replace("[run]\n", "[run]\nseeds = 2\n")
)

_CNN = "negm2021 = { epochs = 1, filters = [4, 8, 8] }\n"

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="needs the optional package dask[distributed] (astrobench[distributed])",
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def cluster():
    """One 2-worker LocalCluster for the module (its workers started once), each worker
    holding one "GPU" resource that CNN runs claim."""
    pytest.importorskip("distributed")
    executor = DaskExecutor("local:2", deep_resources={"GPU": 1})
    executor.connect()
    yield executor
    executor.close()


def _records(root) -> dict:
    lines = (root / "records.jsonl").read_text().splitlines()
    return {r["run_id"]: r for r in map(json.loads, lines)}


def _same_files(a, b, run_ids, names=("record.json", "predictions.parquet")):
    for rid in run_ids:
        for name in names:
            assert (a / "runs" / rid / name).read_bytes() == (
                b / "runs" / rid / name
            ).read_bytes(), (
                rid,
                name,
            )


# ------------------------------------------------------------------- argument checks
def test_scheduler_addresses_and_resources_are_checked():
    for good in ("local", "local:2", "tcp://127.0.0.1:8786", "tls://head.cluster:8786"):
        check_scheduler(good)
    for bad in ("local:0", "127.0.0.1:8786", "slurm", "local:x"):
        with pytest.raises(ConfigError, match="--scheduler"):
            check_scheduler(bad)
    assert parse_resources("GPU=1, MEM=8e9") == {"GPU": 1.0, "MEM": 8e9}
    assert parse_resources(None) == {}
    for bad in ("GPU", "GPU=0", "=1", "GPU=many"):
        with pytest.raises(ConfigError, match="NAME=AMOUNT"):
            parse_resources(bad)


def test_bad_scheduler_options_give_one_line(small, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", str(small), "--out", str(out), "--scheduler", "nowhere:1"]) == 2
    err = capsys.readouterr().err
    assert "is not a Dask scheduler address" in err and "Traceback" not in err
    assert main(["run", str(small), "--out", str(out), "--deep-resources", "GPU=1"]) == 2
    assert "--deep-resources needs --scheduler" in capsys.readouterr().err
    assert not out.exists()  # nothing written


@needs_dask
def test_an_unreachable_scheduler_is_a_clear_error(small, tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", str(small), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err and not out.exists()


# ------------------------------------------------------------------- on a LocalCluster
@needs_dask
@pytest.mark.slow
def test_a_quick_experiment_on_two_workers_records_what_a_local_run_does(
    small, tmp_path, cluster, monkeypatch
):
    pytest.importorskip("keras")
    small.write_text(SMALL.replace("rf = ", _CNN + "rf = ").replace("seeds = 2", "seeds = 1"))
    config = load_experiment(small)
    claimed = {}
    submit = cluster.client.submit

    def spying(fn, job, **kwargs):  # what each run asks the scheduler for
        claimed[job.run.id] = kwargs.get("resources")
        return submit(fn, job, **kwargs)

    monkeypatch.setattr(cluster.client, "submit", spying)
    local = run_experiment(config, out=tmp_path / "local", progress=False)
    remote = run_experiment(config, out=tmp_path / "dask", progress=False, executor=cluster)
    a, b = _records(local.root), _records(remote.root)
    assert sorted(a) == sorted(b) == sorted(claimed)
    assert len(a) == 2 * 4 + 1 + 1  # feature sets × methods + shortcut + CNN
    classical = [rid for rid, r in a.items() if r["kind"] != "deep"]
    _same_files(local.root, remote.root, classical)  # byte for byte
    for rid in set(a) - set(classical):  # CNNs: same split, test stamps and saved model
        assert a[rid]["split_id"] == b[rid]["split_id"] and b[rid]["history"]
        assert (remote.root / "runs" / rid / "model" / "input.json").is_file()
        assert claimed[rid] == {"GPU": 1}  # CNN runs go to workers with a GPU
    assert all(claimed[rid] is None for rid in classical)
    assert not (remote.root / "work" / "_inputs").exists()  # the workers' inputs removed
    assert remote.metadata()["executor"]["workers"] == 2
    assert "executor" not in local.metadata()


@needs_dask
@pytest.mark.slow
def test_resume_on_the_cluster_redoes_only_what_is_missing(small, tmp_path, cluster):
    config = load_experiment(small)
    store = run_experiment(config, out=tmp_path / "r", progress=False, executor=cluster)
    before = _records(store.root)
    gone = sorted(before)[3]
    record = store.run_dir(gone) / "record.json"
    kept = store.run_dir(sorted(before)[0]) / "record.json"
    stamp = kept.stat().st_mtime_ns
    record.unlink()
    run_experiment(config, out=tmp_path / "r", progress=False, executor=cluster)
    after = _records(store.root)
    assert after == before and record.is_file() and kept.stat().st_mtime_ns == stamp


class _KillingExecutor:
    """The cluster's executor, which kills a busy worker's process after the first result."""

    remote = True

    def __init__(self, inner):
        self.inner = inner
        self.scheduler = inner.scheduler
        self.killed = None

    def describe(self):
        return self.inner.describe()

    def connect(self):
        self.inner.connect()

    def map(self, fn, jobs, **kw):
        client = self.inner.client
        for outcome in self.inner.map(fn, jobs, **kw):
            if self.killed is None:
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    pids = client.run(os.getpid, workers=busy[:1])
                    self.killed = pids[busy[0]]
                    os.kill(self.killed, signal.SIGKILL)
            yield outcome


@needs_dask
@pytest.mark.slow
def test_an_experiment_survives_a_worker_killed_mid_run(small, tmp_path, cluster):
    """Last in the module: a worker of the shared cluster is killed (its nanny restarts it)."""
    config = load_experiment(small)
    killer = _KillingExecutor(cluster)
    store = run_experiment(config, out=tmp_path / "r", progress=False, executor=killer)
    assert killer.killed is not None  # a worker did die mid-experiment
    lines = (store.root / "records.jsonl").read_text().splitlines()
    ids = [json.loads(line)["run_id"] for line in lines]
    assert len(ids) == len(set(ids)) == 2 * (2 * 4 + 1)  # every run, once

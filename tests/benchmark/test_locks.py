"""One writer per results folder: the lock file, stale locks, and two concurrent runs."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from benchmark.locks import LOCK, FolderLock, ResultsInUseError
from benchmark.results import ResultsStore


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_names_its_owner_and_refuses_a_second_writer(tmp_path):
    with FolderLock(tmp_path) as lock:
        owner = json.loads((tmp_path / LOCK).read_text())
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
        with pytest.raises(ResultsInUseError, match=rf"being written by run pid {os.getpid()}"):
            FolderLock(tmp_path).acquire()
        assert lock.held
    assert not (tmp_path / LOCK).exists()  # released


def test_stale_and_damaged_locks_are_taken_over_foreign_hosts_are_not(tmp_path):
    path = tmp_path / LOCK
    path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    with FolderLock(tmp_path):  # the run that held it is gone
        assert json.loads(path.read_text())["pid"] == os.getpid()
    path.write_text("{ half-writ")
    with FolderLock(tmp_path):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    path.write_text(json.dumps({"pid": 1, "host": "another-node", "started": "t"}))
    with pytest.raises(ResultsInUseError, match=f"on host another-node .*delete {path}"):
        FolderLock(tmp_path).acquire()
    assert json.loads(path.read_text())["host"] == "another-node"  # left alone


def test_release_leaves_a_lock_it_does_not_hold(tmp_path):
    lock = FolderLock(tmp_path).acquire()
    other = {"pid": 1, "host": "another-node"}
    (tmp_path / LOCK).write_text(json.dumps(other))  # removed by hand and taken by another
    lock.release()
    assert json.loads((tmp_path / LOCK).read_text()) == other


def test_report_waits_for_a_run_still_writing(tmp_path, capsys):
    from benchmark.cli import main
    from benchmark.outputs import write_marker

    write_marker(tmp_path, "results", experiment="x", config_hash="h")
    runner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = {"pid": runner.pid, "host": socket.gethostname(), "started": "t"}
        (tmp_path / LOCK).write_text(json.dumps(owner))
        assert main(["-q", "report", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"being written by run pid {runner.pid}" in err[0]
        assert not (tmp_path / "report").exists()
    finally:
        runner.kill()
        runner.wait()


TINY = """
name = "tiny"
[dataset]
source = "sim-sdss-sn"
scheme = "binary"
[dataset.params]
n = 400
seed = 5
[features]
pca = { n_components = 4 }
[methods]
logreg = {}
rf = { n_estimators = 400 }
[run]
n_candidates = 0
n_bootstrap = 50
"""


@pytest.mark.slow
def test_two_runs_on_one_folder_only_one_writes(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY)
    env = {**os.environ, "ASTROBENCH_CACHE": str(tmp_path / "cache")}
    cmd = [
        sys.executable,
        "-m",
        "benchmark",
        "-q",
        "run",
        "tiny.toml",
        "--out",
        "res",
        "--jobs",
        "1",
    ]
    first = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    lock = tmp_path / "res" / LOCK
    deadline = time.time() + 300
    while not lock.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert lock.exists(), "the first run never took the lock"
    second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert second.returncode == 2
    err = second.stderr.strip().splitlines()
    assert len(err) == 1 and f"is being written by run pid {first.pid}" in err[0]
    out, errs = first.communicate(timeout=600)
    assert first.returncode == 0, errs[-2000:]
    assert not lock.exists()
    assert len(ResultsStore(tmp_path / "res").records()) == 3  # logreg, rf, the shortcut check

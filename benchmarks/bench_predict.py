"""End-to-end speed of ``python -m benchmark predict`` for braai-vgg6 on 2 CPU cores.

Trains braai-vgg6 for one epoch on simulated ZTF-like triplets (its speed, not its
accuracy, is measured), then times the command line end to end, in a fresh process:

* from the canonical HDF5 store (``--n`` simulated triplets, default 20,000);
* from ZTF alert packets in Parquet (the 67 real alerts of ``../shared/data/ztf_alerts``
  repeated ``--repeat`` times), including the gzipped-FITS cutout decoding.

Prints stamps per second and the predicting process's peak memory; nothing is asserted.
Run ``python benchmarks/bench_predict.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALERTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ztf_alerts"

EXPERIMENT = """
name = "bench-predict"
[dataset]
source = "sim-sdss-sn"
scheme = "binary"
[dataset.params]
n = 2000
layout = "triplet"
[features]
pca = {{ n_components = 5 }}
[methods]
braai-vgg6 = {{ epochs = 1 }}
[run]
n_candidates = 0
n_bootstrap = 0
"""


def _timed(cmd, env) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of the command's own process (GNU time's %M)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "PEAK_KB %M", *cmd],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - start
    peak = next(line for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return wall, int(peak.split()[1]) / 1024**2


def _alert_parquet(path: Path, repeat: int) -> int:
    import pyarrow as pa
    import pyarrow.compute  # noqa: F401 - pa.compute
    import pyarrow.parquet as pq

    table = pq.read_table(next(ALERTS.glob("*.parquet")))
    copies = []
    for k in range(repeat):  # each copy its own candid (top level and candidate.candid)
        shift = pa.scalar(k * 10**6, table["candid"].type)
        copy = table.set_column(
            table.schema.get_field_index("candid"), "candid", pa.compute.add(table["candid"], shift)
        )
        if "candidate" in table.column_names:
            cand = table["candidate"].combine_chunks()
            fields = [cand.field(i) for i in range(cand.type.num_fields)]
            names = [cand.type.field(i).name for i in range(cand.type.num_fields)]
            if "candid" in names:
                i = names.index("candid")
                fields[i] = pa.compute.add(fields[i], pa.scalar(k * 10**6, fields[i].type))
            copy = copy.set_column(
                copy.schema.get_field_index("candidate"),
                "candidate",
                pa.StructArray.from_arrays(fields, names=names),
            )
        copies.append(copy)
    pq.write_table(pa.concat_tables(copies), path)
    return table.num_rows * repeat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000, help="stamps in the HDF5 store")
    parser.add_argument("--repeat", type=int, default=150, help="copies of the 67 alerts")
    parser.add_argument("--batch-size", type=int, default=1024)
    args = parser.parse_args()
    from benchmark.simulate import simulated_path

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "ASTROBENCH_CACHE": os.environ.get("ASTROBENCH_CACHE", str(tmp))}
        (tmp / "exp.toml").write_text(EXPERIMENT.format())
        run = [sys.executable, "-m", "benchmark", "-q", "run", str(tmp / "exp.toml")]
        subprocess.run(
            [*run, "--out", str(tmp / "res"), "--methods", "braai-vgg6"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        model = tmp / "res" / "runs" / "images__braai-vgg6__seed0"
        os.environ["ASTROBENCH_CACHE"] = env["ASTROBENCH_CACHE"]
        store = simulated_path(
            "sim-sdss-sn", n=args.n, seed=11, layout="triplet", n_jobs=2, progress=False
        )
        predict = [sys.executable, "-m", "benchmark", "-q", "predict", str(model)]
        size = f"--batch-size={args.batch_size}"
        wall, peak = _timed([*predict, str(store), "-o", str(tmp / "s.parquet"), size], env)
        print(
            f"braai-vgg6, canonical store: {args.n} stamps in {wall:.1f} s = "
            f"{args.n / wall:,.0f} stamps/s end to end (peak memory {peak:.2f} GiB)"
        )
        if ALERTS.is_dir():
            n = _alert_parquet(tmp / "alerts.parquet", args.repeat)
            wall, peak = _timed(
                [*predict, str(tmp / "alerts.parquet"), "-o", str(tmp / "a.parquet"), size], env
            )
            print(
                f"braai-vgg6, ZTF alert Parquet (FITS decoding included): {n} alerts in "
                f"{wall:.1f} s = {n / wall:,.0f} alerts/s (peak memory {peak:.2f} GiB)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

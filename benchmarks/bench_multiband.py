"""Five-band FITS stamps through the Galaxy Zoo profile: what the simulator pretraining,
its g, r, i interpolated onto the data's bands, buys over training from scratch.

Writes the gz2 sample (``../shared/data/gz2_spirals``) as FITS files of five image
extensions, u, g, r, i, z made from each JPEG's channels (u = blue / 2, g = blue, r =
green, i = red, z = 1.1 red; the central 240 pixels resized to 64; fluxes ~1e-3 with
Gaussian noise of 1e-5), in the same train / validation folders; runs the Galaxy Zoo
preset's real profile on it (``galaxy-zoo-binary --data DIR -p crop=none``, 3 seeds),
then ``galaxy-cnn`` from scratch on the same split, and prints accuracy and AUC (mean ±
std over seeds) of each row.

    python benchmarks/bench_multiband.py [--data DIR] [--out DIR]

About 20 minutes on 2 cores with the five-band pretraining cached (README: "Five-band
data, measured": 889 s for the profile, 318 s from scratch).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

#: Each band from the JPEG's (R, G, B) channels: (channel, factor).
BANDS = {"u": (2, 0.5), "g": (2, 1.0), "r": (1, 1.0), "i": (0, 1.0), "z": (0, 1.1)}


def write_fits(source: Path, root: Path, crop: int = 240, size: int = 64, seed: int = 2):
    """The image folder ``source`` as five-band FITS files under ``root`` (same layout)."""
    from astropy.io import fits
    from PIL import Image

    rng = np.random.default_rng(seed)
    for jpeg in sorted(source.glob("*/*/*.jpg")):
        folder = root / jpeg.parent.relative_to(source)
        folder.mkdir(parents=True, exist_ok=True)
        with Image.open(jpeg) as im:
            left = (im.width - crop) // 2
            top = (im.height - crop) // 2
            cut = im.convert("RGB").crop((left, top, left + crop, top + crop))
            rgb = np.asarray(cut.resize((size, size), Image.Resampling.BILINEAR), np.float32)
        rgb /= 255.0
        hdus = [fits.PrimaryHDU()]
        for band, (channel, factor) in BANDS.items():
            flux = rgb[..., channel] * factor * 1e-3 + rng.normal(0, 1e-5, (size, size))
            hdus.append(fits.ImageHDU(flux.astype(np.float32), name=band))
        fits.HDUList(hdus).writeto(folder / f"{jpeg.stem}.fits")
    return root


def summary(results_root: Path) -> dict[str, tuple[list[float], list[float]]]:
    """Per row (method on feature): the seeds' test accuracies and AUCs."""
    rows = defaultdict(lambda: ([], []))
    for record_file in sorted((results_root / "runs").glob("*/record.json")):
        record = json.loads(record_file.read_text())
        acc, auc = rows[f"{record['method']} on {record['feature']}"]
        acc.append(record["metrics"]["accuracy"])
        auc.append(record["metrics"]["auc"])
    return rows


def main() -> None:
    from benchmark.api import run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", default=str(here.parent / "shared/data/gz2_spirals"))
    parser.add_argument("--out", help="folder for the data and results (default: a temp one)")
    args = parser.parse_args()
    source = Path(args.data)
    if not source.is_dir():
        parser.exit(2, f"error: {source} is not a folder; give the gz2 sample with --data\n")
    out = Path(args.out or tempfile.mkdtemp(prefix="astrobench-multiband-"))
    if args.out and out.exists() and any(out.iterdir()):
        parser.exit(2, f"error: {out} is not empty; give a new or empty folder\n")
    data = write_fits(source, out / "data")
    profile = run(
        "galaxy-zoo-binary",
        data=str(data),
        dataset_params={"crop": None},
        out=out / "profile",
        jobs=2,
    )
    scratch_toml = out / "scratch.toml"
    scratch_toml.write_text(
        'name = "multiband-scratch"\n'
        f'[dataset]\nsource = "{data}"\n[dataset.params]\nresize = 64\n'
        "[split]\nseed = 0\ntest_size = 0.25\nval_size = 0.3\n"
        "[features]\nhandcrafted = {}\n"
        "[methods]\ngalaxy-cnn = { epochs = 100, time_budget = 600 }\n"
        '[run]\nseeds = 3\nn_candidates = 4\nclass_weight = "balanced"\nthreshold = "auto"\n'
    )
    scratch = run(scratch_toml, out=out / "scratch", jobs=2)
    print(f"{'row (five-band FITS copy of gz2)':<44} {'accuracy':>15} {'AUC':>15}")
    for label, results in (("", profile), (" from scratch", scratch)):
        rows = summary(Path(results.root))
        for name, (acc, auc) in sorted(rows.items(), key=lambda kv: -np.mean(kv[1][1])):
            if label and not name.startswith("galaxy-cnn"):
                continue
            print(
                f"{name + label:<44} {np.mean(acc):.3f} ± {np.std(acc, ddof=1):.3f}"
                f"   {np.mean(auc):.3f} ± {np.std(auc, ddof=1):.3f}"
            )


if __name__ == "__main__":
    main()

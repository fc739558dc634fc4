"""HTML reports: files, values, links, escaping, and a headless-browser check."""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from benchmark.config import load_experiment
from benchmark.datasets import Dataset, write_store
from benchmark.runner import run_experiment
from reports import build_report

EXPERIMENT = """
name = "tiny"
description = "tiny report test"
published = "du-buisson-2015"

[dataset]
source = "{source}"
{scheme}

[dataset.params]
{params}

[features]
handcrafted = {{}}
pca = {{ n_components = 4 }}

[methods]
logreg = {{}}
rf = {{ n_estimators = 30 }}

[run]
n_candidates = 0
n_bootstrap = 50
"""


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs["src"])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    import os

    os.environ["ASTROBENCH_CACHE"] = str(root / "cache")
    exp = root / "tiny.toml"
    exp.write_text(
        EXPERIMENT.format(
            source="sim-sdss-sn", scheme='scheme = "binary"', params="n = 500\nseed = 2"
        )
    )
    store = run_experiment(load_experiment(exp), out=root / "res", progress=False)
    return store


def test_report_files_values_and_links(results):
    index = build_report(results.root, jobs=1)
    folder = index.parent
    html = index.read_text()
    assert "tiny report test" in html and "sim-sdss-sn (simulated)" in html
    # the table shows each run's metrics as stored, with its CI
    for r in results.records():
        auc = f"{r['metrics']['auc']:.3f} [{r['ci']['auc'][0]:.3f}, {r['ci']['auc'][1]:.3f}]"
        assert auc in html
    assert "Random forest (RF)" in html and "3541 / 342 / 259 / 2732" in html
    assert "our numbers are on simulated data" in html
    assert "Verdict." in html and "no CNN to compare it with" in html
    assert "Paired comparisons with the best" in html and "p (Holm)" in html
    assert "trivial" in html and "(shortcut check)" in html  # the detector's row
    pages = sorted(p.name for p in folder.glob("run-*.html"))
    assert len(pages) == 5
    for page in [index, *(folder / p for p in pages)]:
        parser = Links()
        parser.feed(page.read_text())
        for link in parser.links:
            assert (folder / link).is_file(), f"{page.name} links to missing {link}"
        for img in parser.images:
            assert (folder / img).is_file() and (folder / img).stat().st_size > 1000
        assert not any(
            x.startswith(("http:", "https:", "//")) for x in parser.links + parser.images
        )
    assert re.search(r"<script[^>]+src=", html) is None  # no external scripts
    for name in ("roc-0.png", "threshold.png", "efficiency.png", "examples.png", "scree-pca.png"):
        assert (folder / name).is_file()
    rf = (folder / "run-handcrafted__rf__seed0.html").read_text()
    assert "feature importances" in rf or "-imp.png" in rf
    assert "Most confidently wrong" in rf


def test_report_is_rebuilt_from_the_store_alone(results, tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "empty-cache"))  # no data, no features
    index = build_report(results.root, tmp_path / "again", jobs=1)
    assert index.is_file() and (tmp_path / "again" / "examples.png").is_file()


def test_text_from_data_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    rng = np.random.default_rng(0)
    images = rng.normal(0, 1, (120, 21, 21, 1)).astype(np.float32)
    labels = np.arange(120) % 2
    images[labels == 1, 9:12, 9:12] += 8
    ds = Dataset(images, labels, [evil, "plain"], name="evil<b>name</b>")
    write_store(ds, tmp_path / "evil.h5")
    exp = tmp_path / "evil.toml"
    exp.write_text(
        EXPERIMENT.format(source=str(tmp_path / "evil.h5"), scheme="", params="").replace(
            'published = "du-buisson-2015"\n', ""
        )
    )
    store = run_experiment(load_experiment(exp), out=tmp_path / "res", progress=False)
    index = build_report(store.root, jobs=1)
    for page in index.parent.glob("*.html"):
        text = page.read_text()
        assert evil not in text and "<b>name</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index.read_text()


def _chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if shutil.which("apt-get") and Path("/usr/bin").exists():
        try:
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "chromium"],
                capture_output=True,
                timeout=600,
                check=False,
                env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/bin"},
            )
        except (OSError, subprocess.SubprocessError):
            return None
    return shutil.which("chromium")


@pytest.mark.slow
def test_report_in_a_headless_browser(results, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "Chromium is not installed and could not be installed (apt-get install chromium)"
        )
    index = build_report(results.root, jobs=1)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", index.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert 'data-broken-images="0"' in dom.stdout, dom.stderr[-2000:]
    assert 'data-script-errors="0"' in dom.stdout
    shot = Path("screenshots")
    shot.mkdir(exist_ok=True)
    subprocess.run(
        [
            browser,
            *flags,
            "--window-size=1280,2000",
            f"--screenshot={shot.resolve() / 'report.png'}",
            index.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert (shot / "report.png").stat().st_size > 10000

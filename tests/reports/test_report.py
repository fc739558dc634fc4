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


@pytest.fixture(scope="module")
def sweep_results(tmp_path_factory):
    """A tiny learning-curve sweep with a CNN (one epoch) beside two baselines."""
    pytest.importorskip("keras")
    root = tmp_path_factory.mktemp("sweep")
    import os

    os.environ["ASTROBENCH_CACHE"] = str(root / "cache")
    exp = root / "sweep.toml"
    text = EXPERIMENT.format(
        source="sim-sdss-sn", scheme='scheme = "binary"', params="n = 600\nseed = 4"
    )
    text = text.replace('name = "tiny"', 'name = "tiny-sweep"')
    text = text.replace(
        "rf = { n_estimators = 30 }",
        "rf = { n_estimators = 30 }\nnegm2021 = { epochs = 1, filters = [4, 8, 8] }",
    )
    text = text.replace("n_bootstrap = 50", "n_bootstrap = 50\ntrain_sizes = [0.3, 1.0]")
    exp.write_text(text)
    config = load_experiment(exp).select(features=["pca"])
    return run_experiment(config, out=root / "res", progress=False)


def test_report_leads_with_the_answer(sweep_results):
    index = build_report(sweep_results.root, jobs=1)
    html = index.read_text()
    first = html.index('id="verdict"')
    assert first < html.index('id="overview"') and first < html.index('id="table"')
    verdict = html[first : html.index("</div>", first)]
    assert "Best classical" in verdict and "best CNN" in verdict
    assert "When does a CNN pay off?" in verdict  # the crossover, on the first screen
    assert ("Crossover at" in verdict) or ("No crossover" in verdict)
    assert (index.parent / "learning-curves.png").stat().st_size > 5000
    assert html.index("learning-curves.png") < html.index('id="overview"')
    assert "Learning curves and the crossover" in html
    # method pages grouped by feature set in the navigation; sweep runs get no page
    assert '<span class="group"><b>pca</b>' in html and "<b>images</b>" in html
    assert not list(index.parent.glob("run-*train*.html"))


def test_report_files_values_and_links(results):
    index = build_report(results.root, jobs=1)
    folder = index.parent
    html = index.read_text()
    assert "tiny report test" in html and "sim-sdss-sn (simulated)" in html
    # the table shows each run's metrics as stored, with its CI
    for r in results.records():
        auc = f'{r["metrics"]["auc"]:.3f}<span class="ci">[{r["ci"]["auc"][0]:.3f}, '
        assert auc + f"{r['ci']['auc'][1]:.3f}]</span>" in html
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


def _flags(tmp_path) -> list:
    """Headless Chromium on a closed network (no background connections), a fresh profile."""
    return [
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


def _screenshot(browser, flags, index, name: str, height: int) -> int:
    """A 1280-px-wide screenshot of ``index`` into ``screenshots/``; returns its size."""
    shot = Path("screenshots")
    shot.mkdir(exist_ok=True)
    subprocess.run(
        [
            browser,
            *flags,
            f"--window-size=1280,{height}",
            f"--screenshot={shot.resolve() / name}",
            index.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    return (shot / name).stat().st_size


def _attribute(dom: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', dom)
    assert found, f"{name} missing from the page"
    return found.group(1)


def _check_first_screen(browser, flags, index) -> None:
    """At 1280x800 the verdict is on the first screen and nothing scrolls sideways."""
    dom = subprocess.run(
        [browser, *flags, "--window-size=1280,800", "--dump-dom", index.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    height = int(_attribute(dom, "data-viewport").split("x")[1])
    assert int(_attribute(dom, "data-verdict-bottom")) <= height
    assert int(_attribute(dom, "data-scroll-width")) <= int(_attribute(dom, "data-client-width"))


@pytest.mark.slow
def test_sweep_report_first_screen_in_a_headless_browser(sweep_results, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed and could not be installed")
    index = build_report(sweep_results.root, jobs=1)
    flags = _flags(tmp_path)
    _check_first_screen(browser, flags, index)
    assert _screenshot(browser, flags, index, "report-first-screen.png", 800) > 10000


def test_landing_page_over_a_folder_of_experiments(results, sweep_results, tmp_path, capsys):
    from benchmark.cli import main

    parent = tmp_path / "all"
    parent.mkdir()
    (parent / "tiny").symlink_to(results.root, target_is_directory=True)
    (parent / "tiny-sweep").symlink_to(sweep_results.root, target_is_directory=True)
    (parent / "notes").mkdir()  # not an experiment: left out
    assert main(["-q", "report", str(parent)]) == 0
    page = parent / "index.html"
    html = page.read_text()
    parser = Links()
    parser.feed(html)
    assert sorted(parser.links) == ["tiny-sweep/report/index.html", "tiny/report/index.html"]
    for link in parser.links:
        assert (parent / link).is_file()
    assert html.split("<tbody>")[1].count("<tr>") == 2 and "simulated" in html
    assert "no sweep" in html  # the plain experiment
    assert ("training images" in html) or ("none within the data" in html)  # the sweep's
    assert "logreg on" in html or "rf on" in html  # best classical named
    assert main(["-q", "report", str(parent)]) == 0  # rebuilt: its own page is replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tiny").symlink_to(results.root, target_is_directory=True)
    (mine / "index.html").write_text("<p>my notes</p>")
    capsys.readouterr()
    assert main(["-q", "report", str(mine)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was not written by astrobench" in err[0]
    assert (mine / "index.html").read_text() == "<p>my notes</p>"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["-q", "report", str(empty)]) == 2
    assert "neither a results folder nor a folder of them" in capsys.readouterr().err


@pytest.mark.slow
def test_report_in_a_headless_browser(results, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "Chromium is not installed and could not be installed (apt-get install chromium)"
        )
    index = build_report(results.root, jobs=1)
    flags = _flags(tmp_path)
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", index.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert 'data-broken-images="0"' in dom.stdout, dom.stderr[-2000:]
    assert 'data-script-errors="0"' in dom.stdout
    _check_first_screen(browser, flags, index)
    assert _screenshot(browser, flags, index, "report.png", 2000) > 10000

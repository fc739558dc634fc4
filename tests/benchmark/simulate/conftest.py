import pytest


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Every test gets its own simulation cache."""
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))

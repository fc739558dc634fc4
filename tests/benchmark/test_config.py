import formats
import pytest

from benchmark.config import DatasetConfig, read_toml
from benchmark.errors import ConfigError, MissingPathError


def test_dataset_table_loads_with_loader_params(tmp_path):
    root = formats.write_catalog(tmp_path / "imgs", n=4)
    exp = tmp_path / "exp.toml"
    exp.write_text(
        """
[dataset]
source = "imgs"
loader = "catalog"
drop_classes = ["star"]

[dataset.params]
catalog = "labels.csv"
id_column = "OBJID"
label_column = "CLASS"
pattern = "{id}.jpeg"
crop = 8
"""
    )
    cfg = DatasetConfig.from_table(read_toml(exp)["dataset"], base=tmp_path)
    assert cfg.source == str(root) and cfg.params["crop"] == 8
    ds = cfg.load()
    assert ds.shape == (2, 8, 8, 3) and ds.classes == ("galaxy",)


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="unknown key 'catalog'; valid keys: source, loader"):
        DatasetConfig.from_table({"source": "x", "catalog": "labels.csv"})


def test_bad_values():
    with pytest.raises(ConfigError, match="missing key 'source'"):
        DatasetConfig.from_table({"loader": "catalog"})
    with pytest.raises(ConfigError, match="drop_classes must be a list"):
        DatasetConfig.from_table({"source": "x", "drop_classes": "star"})
    with pytest.raises(ConfigError, match="loader must be a string"):
        DatasetConfig.from_table({"source": "x", "loader": 3})


def test_read_toml_errors(tmp_path):
    with pytest.raises(MissingPathError):
        read_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[dataset\nsource = 1")
    with pytest.raises(ConfigError, match="invalid TOML"):
        read_toml(bad)

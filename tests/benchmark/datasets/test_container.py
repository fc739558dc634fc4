import numpy as np
import pandas as pd
import pytest

from benchmark.datasets import Dataset
from benchmark.datasets.taxonomy import SDSS_SN, Taxonomy
from benchmark.errors import ShapeMismatchError, UnknownNameError


def test_contract_shapes_and_types(sdss_dataset):
    ds = sdss_dataset
    assert ds.images.dtype == np.float32
    assert ds.shape == (40, 8, 8, 3)
    assert ds.labels.dtype == np.int64
    assert ds.classes == SDSS_SN.classes("original")
    assert len(ds.ids) == 40 and ds.ids[3] == "s3"
    assert list(ds.meta.columns) == ["snr"]
    assert len(ds.fingerprint) == 16


def test_relabel_original_visual_binary(sdss_dataset):
    visual = sdss_dataset.relabel("visual")
    assert visual.classes == ("Artefact", "Dipole/Saturated", "Real")
    assert visual.counts() == {"Artefact": 4, "Dipole/Saturated": 8, "Real": 28}
    binary = visual.relabel("binary")
    assert binary.classes == ("Not-Real", "Real")
    assert binary.counts() == {"Not-Real": 12, "Real": 28}
    # seed 001: classes 0-2 Not-Real, 3-9 Real
    np.testing.assert_array_equal(binary.labels, (np.arange(40) % 10 >= 3).astype(int))
    # relabelling back to the finest scheme restores the original labels
    np.testing.assert_array_equal(binary.relabel("original").labels, np.arange(40) % 10)


def test_relabel_unknown_scheme_lists_valid(sdss_dataset):
    with pytest.raises(UnknownNameError, match="valid schemes: original, visual, binary"):
        sdss_dataset.relabel("ternary")


def test_subset_keeps_everything_aligned(sdss_dataset):
    sub = sdss_dataset.subset([5, 2, 9])
    assert list(sub.ids) == ["s5", "s2", "s9"]
    np.testing.assert_array_equal(sub.images, sdss_dataset.images[[5, 2, 9]])
    np.testing.assert_allclose(sub.meta["snr"], sdss_dataset.meta["snr"].iloc[[5, 2, 9]])
    assert sub.labels.tolist() == [5, 2, 9]


def test_drop_classes_shrinks_taxonomy_and_reports(sdss_dataset):
    out = sdss_dataset.drop_classes(["Dipole", "Moving"])
    assert len(out) == 32
    assert "Dipole" not in out.classes and "Moving" not in out.classes
    assert out.counts() == {c: 4 for c in out.classes}
    assert out.provenance["removed"][-1]["count"] == 8
    # the coarser schemes still work and keep their classes
    assert out.relabel("binary").counts() == {"Not-Real": 8, "Real": 24}


def test_drop_coarse_class_removes_its_fine_classes(sdss_dataset):
    out = sdss_dataset.relabel("binary").drop_classes(["Not-Real"])
    assert out.classes == ("Real",)
    assert out.relabel("original").classes == SDSS_SN.classes("original")[3:]
    assert len(out) == 28


def test_drop_unknown_class_lists_valid(sdss_dataset):
    with pytest.raises(UnknownNameError, match="unknown class 'Comet'.*Artefact, Dipole"):
        sdss_dataset.drop_classes(["Comet"])


def test_fingerprint_depends_on_pixels_labels_and_ids(sdss_dataset):
    fp = sdss_dataset.fingerprint
    images = sdss_dataset.images.copy()
    images[0, 0, 0, 0] += 1e-3
    assert (
        Dataset(images, sdss_dataset.base_labels, SDSS_SN, ids=sdss_dataset.ids).fingerprint != fp
    )
    labels = sdss_dataset.base_labels.copy()
    labels[0] = 1
    assert Dataset(sdss_dataset.images, labels, SDSS_SN, ids=sdss_dataset.ids).fingerprint != fp
    same = Dataset(
        sdss_dataset.images.copy(), sdss_dataset.base_labels, SDSS_SN, ids=sdss_dataset.ids
    )
    assert same.fingerprint == fp


def test_length_mismatch_is_reported():
    with pytest.raises(ShapeMismatchError, match="5 images but 4 labels"):
        Dataset(np.zeros((5, 2, 2, 1)), [0, 1, 0, 1], ["a", "b"])


def test_duplicate_ids_are_reported():
    with pytest.raises(ShapeMismatchError, match="'x' appears more than once"):
        Dataset(np.zeros((2, 2, 2, 1)), [0, 1], ["a", "b"], ids=["x", "x"])


def test_images_must_be_4d():
    with pytest.raises(ShapeMismatchError, match=r"\(N, H, W, C\)"):
        Dataset(np.zeros((5, 2, 2)), [0] * 5, ["a"])


def test_labels_out_of_range():
    with pytest.raises(ShapeMismatchError, match="labels must lie in -1..1"):
        Dataset(np.zeros((2, 2, 2, 1)), [0, 2], ["a", "b"])


def test_meta_rows_must_match():
    with pytest.raises(ShapeMismatchError, match="meta table has 3 rows"):
        Dataset(np.zeros((2, 2, 2, 1)), [0, 1], ["a", "b"], meta=pd.DataFrame({"x": [1, 2, 3]}))


def test_taxonomy_json_round_trip_and_validation():
    assert Taxonomy.from_json(SDSS_SN.to_json()) == SDSS_SN
    with pytest.raises(ValueError, match="expected one entry per base class"):
        Taxonomy("fine", ["a", "b"], {"coarse": (["x"], [0])})


def test_unlabelled_counts():
    ds = Dataset(np.zeros((3, 2, 2, 1)), [-1, -1, -1], [])
    assert ds.counts() == {"unlabelled": 3}
    assert not ds.is_labelled

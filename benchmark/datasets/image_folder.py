"""Loader ``image-folder``: class-per-subfolder trees of JPEG, PNG, TIFF or FITS images.

Two layouts are recognised::

    root/<class>/<image>                      (no predefined split)
    root/<part>/<class>/<image>               part in train, validation (or valid, val), test

With split folders, each image's part is kept in ``meta["split"]`` and the
split module respects it (seed 003's ``data/train/spiral`` layout; the Galaxy
Zoo 2 sample in ``../shared/data/gz2_spirals``).  Classes are the sorted
sub-folder names.  For scoring (``predict``), a flat folder of JPEG/PNG/TIFF images
without class folders is read too, unlabelled.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..errors import EmptyClassError, MissingPathError
from ._build import UNLABELLED, build, file_images, reading
from ._imageio import IMAGE_SUFFIXES, RASTER_SUFFIXES, is_image_file
from .preprocess import Preprocess

__all__ = ["SPLIT_FOLDERS", "load", "sniff"]

log = logging.getLogger(__name__)

#: Split folder names and the part each one stands for.
SPLIT_FOLDERS = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "test": "test",
    "testing": "test",
}


def _subdirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _has_images(path: Path) -> bool:
    return any(is_image_file(p) for p in path.iterdir() if p.is_file())


def _flat(path: Path) -> bool:
    """A folder of raster images without class folders, read when scoring (unlabelled);
    a flat folder of FITS files is the ``fits-stamps`` loader's."""
    return reading().unlabelled and any(
        p.is_file() and p.name.lower().endswith(RASTER_SUFFIXES) for p in path.iterdir()
    )


def sniff(path) -> bool:
    """True if ``path`` is a folder of class folders (optionally under split folders)."""
    path = Path(path)
    if not path.is_dir():
        return False
    subs = _subdirs(path)
    if not subs:
        return _flat(path)
    if all(s.name.lower() in SPLIT_FOLDERS for s in subs):
        subs = [c for s in subs for c in _subdirs(s)]
    return any(_has_images(s) for s in subs)


def _report_ignored(root: Path, ignored: list[Path]) -> None:
    """Say which files were left out: hidden and text files quietly, anything else (an
    image format we do not read, say) as a warning naming its kinds, as a left-out stamp
    changes the data set."""
    quiet = (".txt", ".csv", ".md", ".json", ".db", ".ini")
    loud = [p for p in ignored if not p.name.startswith(".") and p.suffix.lower() not in quiet]
    if loud:
        kinds = sorted({p.suffix.lower() or p.name for p in loud})
        log.warning(
            "%s: left out %d files that are not images we read (%s; read: %s); convert "
            "them or move them out of the class folders",
            root,
            len(loud),
            ", ".join(kinds),
            ", ".join(IMAGE_SUFFIXES),
        )
    elif ignored:
        log.info("%s: ignored %d files that are not images", root, len(ignored))


def load(path, *, preprocess: Preprocess, progress: bool = True, name: str | None = None):
    """Load a class-per-subfolder image tree.

    Parameters
    ----------
    path : str or Path
        The root folder.
    preprocess : Preprocess
        Shared preprocessing options.
    progress : bool
        Show progress bars while decoding.
    name : str, optional
        Dataset name (default: the folder name).

    Raises
    ------
    MissingPathError
        If the folder does not exist or holds no class folders.
    EmptyClassError
        If a class folder holds no image (the message names it).
    """
    root = Path(path)
    if not root.is_dir():
        msg = f"{root}: no such folder; check the path"
        raise MissingPathError(msg)
    subs = _subdirs(root)
    if subs and all(s.name.lower() in SPLIT_FOLDERS for s in subs):
        parts = [(SPLIT_FOLDERS[s.name.lower()], s) for s in subs]
    else:
        parts = [(None, root)]
    records = []
    ignored: list[Path] = []
    if not subs and _flat(root):  # scoring a flat folder: one unlabelled class
        parts = []
        files = sorted(p for p in root.iterdir() if p.is_file())
        records = [(None, UNLABELLED, p) for p in files if is_image_file(p)]
        ignored = [p for p in files if not is_image_file(p)]
    for part, folder in parts:
        class_dirs = _subdirs(folder)
        if not class_dirs:
            msg = f"{folder}: holds no class folders (expected {folder}/<class>/<image files>)"
            raise MissingPathError(msg)
        for cdir in class_dirs:
            files = sorted(p for p in cdir.iterdir() if p.is_file())
            images = [p for p in files if is_image_file(p)]
            ignored += [p for p in files if not is_image_file(p)]
            if not images:
                msg = (
                    f"{cdir}: class folder holds no images (.jpg, .jpeg, .png, .tif, .fits); "
                    f"add images or remove the folder"
                )
                raise EmptyClassError(msg)
            for p in images:
                records.append((part, cdir.name, p))
    _report_ignored(root, ignored)
    classes = sorted({r[1] for r in records})
    index = {c: i for i, c in enumerate(classes)}
    paths = [str(r[2]) for r in records]
    ids = [str(r[2].relative_to(root).with_suffix("")) for r in records]
    meta = pd.DataFrame({"file": [str(r[2].relative_to(root)) for r in records]})
    if parts and parts[0][0] is not None:
        meta["split"] = [r[0] for r in records]
    images, channels, scale = file_images(paths, preprocess=preprocess, progress=progress)
    return build(
        images,
        [index[r[1]] for r in records],
        classes,
        ids=ids,
        meta=meta,
        preprocess=preprocess,
        channels=channels,
        name=name or root.name,
        where=str(root),
        progress=progress,
        extra={"scale": scale},
    )

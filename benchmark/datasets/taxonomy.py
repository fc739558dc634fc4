"""Label taxonomies: one fine set of classes and coarser schemes derived from it.

A :class:`Taxonomy` holds a *base* scheme (the finest classes that the labels of
a dataset are stored in) and any number of coarser schemes, each given as the
class names of the scheme plus, for every base class, the index of the coarse
class it belongs to.  The SDSS-II SN hand-scanning taxonomy of Negm (2021),
after du Buisson et al. (2015), is the model::

    original (10 classes)  ->  visual (3)  ->  binary (Real / Not-Real)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import UnknownNameError

__all__ = ["Taxonomy", "SCHEMES", "SDSS_SN", "GALAXY10_SDSS", "GALAXY10_DECALS", "flat"]


class Taxonomy:
    """A base set of classes plus coarser label schemes mapped from it.

    Parameters
    ----------
    base : str
        Name of the finest scheme, e.g. ``"original"``.
    classes : sequence of str
        Class names of the base scheme, in label order.
    coarser : mapping of str to (sequence of str, sequence of int)
        For each coarser scheme, its class names and the coarse index of every
        base class (length ``len(classes)``).
    """

    def __init__(
        self,
        base: str,
        classes: Sequence[str],
        coarser: Mapping[str, tuple[Sequence[str], Sequence[int]]] | None = None,
    ):
        self.base = str(base)
        self._schemes: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
            self.base: (tuple(map(str, classes)), np.arange(len(classes), dtype=np.int64))
        }
        for name, (names, mapping) in (coarser or {}).items():
            mapping = np.asarray(mapping, dtype=np.int64)
            if mapping.shape != (len(classes),):
                msg = (
                    f"scheme {name!r} maps {mapping.size} classes, "
                    f"expected one entry per base class ({len(classes)})"
                )
                raise ValueError(msg)
            if mapping.size and (mapping.min() < 0 or mapping.max() >= len(names)):
                msg = f"scheme {name!r} maps to class indices outside 0..{len(names) - 1}"
                raise ValueError(msg)
            self._schemes[str(name)] = (tuple(map(str, names)), mapping)

    @property
    def schemes(self) -> list[str]:
        """Scheme names, finest first."""
        return list(self._schemes)

    def classes(self, scheme: str) -> tuple[str, ...]:
        """Class names of ``scheme``."""
        return self._lookup(scheme)[0]

    def mapping(self, scheme: str) -> np.ndarray:
        """Coarse index of every base class in ``scheme``, shape ``(n_base,)``."""
        return self._lookup(scheme)[1]

    def map(self, base_labels: np.ndarray, scheme: str) -> np.ndarray:
        """Convert labels of the base scheme to ``scheme``; ``-1`` (unlabelled) stays ``-1``."""
        base_labels = np.asarray(base_labels, dtype=np.int64)
        mapping = self.mapping(scheme)
        out = np.full(base_labels.shape, -1, dtype=np.int64)
        known = base_labels >= 0
        out[known] = mapping[base_labels[known]]
        return out

    def _lookup(self, scheme: str):
        if scheme not in self._schemes:
            msg = f"unknown label scheme {scheme!r}; valid schemes: {', '.join(self._schemes)}"
            raise UnknownNameError(msg)
        return self._schemes[scheme]

    def keep_base_classes(self, keep: np.ndarray) -> Taxonomy:
        """A taxonomy with only the base classes where ``keep`` is true.

        Coarse classes that no kept base class maps to are removed and the
        remaining ones re-indexed in their original order.
        """
        keep = np.asarray(keep, dtype=bool)
        base_names = [c for c, k in zip(self.classes(self.base), keep) if k]
        coarser = {}
        for name in self.schemes[1:]:
            names, mapping = self._schemes[name]
            used = sorted(set(mapping[keep].tolist()))
            reindex = {old: new for new, old in enumerate(used)}
            coarser[name] = ([names[i] for i in used], [reindex[m] for m in mapping[keep]])
        return Taxonomy(self.base, base_names, coarser)

    def to_json(self) -> str:
        """Serialise to a JSON string (stored as an HDF5 attribute)."""
        data = {
            "base": self.base,
            "schemes": {
                name: {"classes": list(names), "mapping": mapping.tolist()}
                for name, (names, mapping) in self._schemes.items()
            },
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Taxonomy:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        schemes = data["schemes"]
        base = data["base"]
        coarser = {
            name: (s["classes"], s["mapping"]) for name, s in schemes.items() if name != base
        }
        return cls(base, schemes[base]["classes"], coarser)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Taxonomy) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        parts = [f"{n} ({len(self.classes(n))})" for n in self.schemes]
        return f"Taxonomy({' -> '.join(parts)})"


def flat(classes: Sequence[str], base: str = "original") -> Taxonomy:
    """A taxonomy with a single scheme."""
    return Taxonomy(base, classes)


#: SDSS-II SN hand-scanning classes in the order of seed 001's class table.
SDSS_SN = Taxonomy(
    "original",
    [
        "Artefact",
        "Dipole",
        "Saturated Star",
        "Moving",
        "Variable",
        "Transient",
        "SN Other",
        "SN Bronze",
        "SN Silver",
        "SN Gold",
    ],
    {
        "visual": (["Artefact", "Dipole/Saturated", "Real"], [0, 1, 1, 2, 2, 2, 2, 2, 2, 2]),
        "binary": (["Not-Real", "Real"], [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]),
    },
)

#: Galaxy10 SDSS (astroNN), classes 0-9.
GALAXY10_SDSS = Taxonomy(
    "original",
    [
        "Disk, Face-on, No Spiral",
        "Smooth, Completely round",
        "Smooth, in-between round",
        "Smooth, Cigar shaped",
        "Disk, Edge-on, Rounded Bulge",
        "Disk, Edge-on, Boxy Bulge",
        "Disk, Edge-on, No Bulge",
        "Disk, Face-on, Tight Spiral",
        "Disk, Face-on, Medium Spiral",
        "Disk, Face-on, Loose Spiral",
    ],
    {"coarse": (["Smooth", "Disk"], [1, 0, 0, 0, 1, 1, 1, 1, 1, 1])},
)

#: Galaxy10 DECaLS (astroNN), classes 0-9.
GALAXY10_DECALS = Taxonomy(
    "original",
    [
        "Disturbed",
        "Merging",
        "Round Smooth",
        "In-between Round Smooth",
        "Cigar Shaped Smooth",
        "Barred Spiral",
        "Unbarred Tight Spiral",
        "Unbarred Loose Spiral",
        "Edge-on without Bulge",
        "Edge-on with Bulge",
    ],
    {"coarse": (["Disturbed/Merging", "Smooth", "Disk"], [0, 0, 1, 1, 1, 2, 2, 2, 2, 2])},
)

#: Named taxonomies shipped with astrobench (``python -m benchmark list`` shows them).
SCHEMES: dict[str, Taxonomy] = {
    "sdss-sn": SDSS_SN,
    "galaxy10-sdss": GALAXY10_SDSS,
    "galaxy10-decals": GALAXY10_DECALS,
}

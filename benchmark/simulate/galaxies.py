"""Simulated galaxy cutouts (``sim-galaxy10``): Galaxy10 classes or the 4 of seed 002.

Each galaxy is a bulge (Sersic, n ~ 4, optionally boxy) plus an exponential
disk seen at an inclination (intrinsic thickness q0 ~ 0.1-0.2), with
logarithmic spiral arms whose pitch angle sets tight / medium / loose and
star-forming knots on them, bars, lenses and rings in the shares observed in
disks, an optional dust lane for edge-on disks, and colour gradients (red bulge, blue
disk and arms) across g, r, i.  The image is convolved with a Moffat PSF per
band (FFT), field stars and small galaxies are added, and Poisson + read noise
on a sky background.  Class boundaries (axis ratio of smooth galaxies, pitch
angle) overlap slightly, as volunteer labels do.

``mode="gz4"`` gives seed 002's classes: edge-on, face-on spiral, elliptical,
and merger (two interacting galaxies with tidal tails).  ``mode="decals"`` gives
Galaxy10 DECaLS's classes (Walmsley et al. 2022): disturbed (a lopsided, clumpy disk
with a faint tidal feature), merging, three smooth shapes, barred spiral, unbarred
tight and loose spirals, edge-on with and without a bulge, in DECaLS's class shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..datasets.taxonomy import GALAXY10_DECALS, GALAXY10_SDSS, Taxonomy
from ..errors import ConfigError, UnknownNameError
from ._classes import check_fractions, exact_counts
from ._profiles import F, axis, moffat, sersic, standard_normal

__all__ = ["GZ4_CLASSES", "GalaxyConfig", "mode_for", "render_batch"]

GZ4_CLASSES = ("edge-on", "face-on spiral", "elliptical", "merger")
GALAXY10_CLASSES = GALAXY10_SDSS.classes("original")
DECALS_CLASSES = GALAXY10_DECALS.classes("original")
#: Generator version: bump it when the output changes, so cached simulations are remade.
VERSION = 5
BANDS = ("g", "r", "i")
#: Star-forming knots per spiral disk (unresolved: the PSF gives them their shape).
N_KNOTS = 12
#: Galaxy10 SDSS class counts (astroNN), floored at 2% so that every class can be split.
_G10_COUNTS = np.array([3461, 6997, 6292, 394, 1534, 17, 589, 1121, 906, 519], float)
_G10_FRACTIONS = np.maximum(_G10_COUNTS / _G10_COUNTS.sum(), 0.02)
#: Galaxy10 DECaLS class counts (astroNN; 17,736 images, no class under 2%).
_DECALS_COUNTS = np.array([1081, 1853, 2645, 2027, 334, 2043, 1829, 2628, 1423, 1873], float)
DEFAULT_FRACTIONS = {
    "galaxy10": dict(zip(GALAXY10_CLASSES, _G10_FRACTIONS / _G10_FRACTIONS.sum())),
    "gz4": dict(zip(GZ4_CLASSES, (0.30, 0.35, 0.30, 0.05))),
    "decals": dict(zip(DECALS_CLASSES, _DECALS_COUNTS / _DECALS_COUNTS.sum())),
}
#: Each mode's taxonomy (its classes are the ``original`` scheme's).
_MODES = {
    "galaxy10": GALAXY10_SDSS,
    "gz4": Taxonomy(
        "original", GZ4_CLASSES, {"spiral-elliptical": (["elliptical", "spiral"], [1, 1, 0, 1])}
    ),
    "decals": GALAXY10_DECALS,
}
SKY = np.array([70.0, 100.0, 140.0], F)
READ_NOISE = 5.0


@dataclass(frozen=True)
class GalaxyConfig:
    """Parameters of ``sim-galaxy10``.

    Parameters
    ----------
    n : int
        Number of cutouts (default 21,785, the size of Galaxy10 SDSS).
    mode : {"galaxy10", "gz4", "decals"}
        Galaxy10 SDSS's classes, seed 002's four, or Galaxy10 DECaLS's.
    size : int
        Cutout size in pixels: 69 (SDSS-like, default) or larger (e.g. 256).
    fractions : mapping, optional
        Class frequencies summing to 1 (default: Galaxy10's, floored at 2%).
    fwhm_range : (float, float)
        Seeing FWHM in pixels at 69-pixel scale.
    max_neighbours : int
    noise : bool
    """

    n: int = 21785
    mode: str = "galaxy10"
    size: int = 69
    fractions: Mapping | None = None
    fwhm_range: tuple = (2.5, 4.5)
    max_neighbours: int = 2
    noise: bool = True
    classes: tuple = field(init=False, default=())

    def __post_init__(self):
        if int(self.n) <= 0:
            msg = f"n must be a positive number of images, got {self.n}"
            raise ConfigError(msg)
        if self.mode not in _MODES:
            msg = f"unknown mode {self.mode!r}; valid: {', '.join(_MODES)}"
            raise UnknownNameError(msg)
        if int(self.size) < 32:
            msg = f"size must be at least 32 pixels, got {self.size}"
            raise ConfigError(msg)
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "size", int(self.size))
        classes = _MODES[self.mode].classes("original")
        object.__setattr__(self, "classes", tuple(classes))
        fractions = check_fractions(self.fractions or DEFAULT_FRACTIONS[self.mode], classes)
        object.__setattr__(self, "fractions", fractions)
        lo, hi = (float(v) for v in self.fwhm_range)
        if not 0 < lo <= hi:
            msg = f"fwhm_range must be two positive numbers, low <= high; got {self.fwhm_range}"
            raise ConfigError(msg)
        object.__setattr__(self, "fwhm_range", (lo, hi))
        if int(self.max_neighbours) < 0:
            msg = f"max_neighbours must be >= 0, got {self.max_neighbours}"
            raise ConfigError(msg)

    @property
    def channels(self) -> tuple[str, ...]:
        return BANDS

    def counts(self) -> np.ndarray:
        """Exact number of images per class (largest-remainder rounding)."""
        return exact_counts(self.fractions, self.classes, self.n)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("classes")
        d["fwhm_range"] = list(self.fwhm_range)
        return d


#: The parameter class of this simulation (``datasets.load(name, **params)``).
CONFIG_CLASS = GalaxyConfig


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def mode_for(class_names) -> str:
    """The mode whose classes (in any of its label schemes) share most names with
    ``class_names``: ``decals`` for Galaxy10 DECaLS data, ``gz4`` for seed 002's four
    classes; ``galaxy10`` (the default) when none shares more, or for unknown names."""
    wanted = {_norm(c) for c in class_names or ()}
    best, best_score = "galaxy10", 0
    for mode, tax in _MODES.items():
        names = {_norm(c) for scheme in tax.schemes for c in tax.classes(scheme)}
        score = len(wanted & names)
        if score > best_score:
            best, best_score = mode, score
    return best


def taxonomy(config: GalaxyConfig) -> Taxonomy:
    return _MODES[config.mode]


#: Mean of the colour continuum (0 blue .. 1 red) for smooth and for disk galaxies, and its
#: scatter: the classes overlap almost entirely (colour alone gives AUC ~0.6 on gz2).
_COLOUR_MEAN = (0.545, 0.455)
_COLOUR_SCATTER = 0.22


def _band_ratios(red):
    """(k, 3) flux ratios g/r, 1, i/r for colour-continuum values ``red`` (0..1).

    g - r runs from 0.2 (blue) to 0.9 mag (red) and r - i from 0.1 to 0.45 mag, the span of
    SDSS galaxies.
    """
    red = np.asarray(red, F)
    g = np.power(F(10.0), F(-0.4) * (F(0.2) + F(0.7) * red))
    i = np.power(F(10.0), F(0.4) * (F(0.1) + F(0.35) * red))
    return np.stack([g, np.ones_like(g), i], axis=1).astype(F)


def _logu(rng, lo, hi, k):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), k)).astype(F)


class _Params:
    """Per-galaxy structural parameters, filled class by class (arrays of length B)."""

    def __init__(self, b, rng, size):
        scale = size / 69.0
        self.scale = scale
        # Brightness and size come from one population whatever the class: a luminosity
        # (log-normal), a size that grows with it (R ~ L^0.3, 0.25 dex scatter, as the
        # size-luminosity relations of both early and late types do) and a distance
        # that dims and shrinks both.  No class is brighter or larger by construction.
        self.distance = _logu(rng, 1.0, 3.0, b)
        lum = np.exp(rng.normal(np.log(2.5e5), 0.5, b)).astype(F)
        radius = F(9.0) * (lum / F(2.5e5)) ** F(0.3) * np.exp(rng.normal(0, 0.25, b)).astype(F)
        self.flux = lum / self.distance**2 * scale**2
        self.re_disk = np.clip(radius / self.distance, 2.0, 20.0).astype(F) * scale
        # a colour continuum, 0 (blue, star forming) to 1 (red, quiescent); the class
        # shifts it a little (see _COLOUR_MEAN) so that red spirals and blue ellipticals
        # are common, as in Galaxy Zoo (Masters et al. 2010; Schawinski et al. 2009)
        self.red = np.zeros(b, F)
        self.bt = np.zeros(b, F)  # bulge-to-total flux
        self.n_bulge = rng.uniform(3.0, 5.0, b).astype(F)
        self.re_bulge = np.zeros(b, F)
        self.q_bulge = np.ones(b, F)
        self.box = np.full(b, 2.0, F)  # generalised-ellipse exponent; > 2 is boxy
        self.incl = np.zeros(b, F)  # radians
        self.q0 = rng.uniform(0.1, 0.2, b).astype(F)
        self.theta = rng.uniform(0, np.pi, b).astype(F)
        self.arms = np.zeros(b, F)  # arm amplitude
        self.pitch = np.full(b, np.deg2rad(20.0), F)
        self.m_arms = rng.choice([2, 2, 2, 3], b).astype(F)
        self.dust = np.zeros(b, F)
        # disk structure beyond the arms (flux shares of the disk light)
        self.bar = np.zeros(b, F)
        self.bar_len = rng.uniform(0.6, 1.2, b).astype(F)  # semi-length / disk half-light radius
        self.bar_q = rng.uniform(0.2, 0.4, b).astype(F)
        self.bar_angle = rng.uniform(0, np.pi, b).astype(F)  # in the disk plane
        self.ring = np.zeros(b, F)
        self.ring_r = rng.uniform(1.0, 1.8, b).astype(F)  # / disk half-light radius
        self.lens = np.zeros(b, F)
        self.clumps = np.zeros(b, F)
        self.smooth = np.zeros(b, bool)  # pure spheroid
        self.q_smooth = np.ones(b, F)
        self.merger = np.zeros(b, bool)
        # disturbed disks: a lopsided (m = 1) distortion towards ``lop_angle`` and a faint
        # one-sided tidal feature holding ``tail`` of the light
        self.lopsided = np.zeros(b, F)
        self.lop_angle = np.zeros(b, F)
        self.tail = np.zeros(b, F)
        self.x0 = (size - 1) / 2 + rng.uniform(-1, 1, b).astype(F)
        self.y0 = (size - 1) / 2 + rng.uniform(-1, 1, b).astype(F)


def _assign(p: _Params, rng, labels, classes):
    deg = np.deg2rad
    for code, name in enumerate(classes):
        idx = np.flatnonzero(labels == code)
        k = len(idx)
        if not k:
            continue
        if "Smooth" in name or name == "elliptical":
            p.smooth[idx] = True
            p.n_bulge[idx] = rng.uniform(1.0, 4.0, k)
            p.re_bulge[idx] = p.re_disk[idx] * F(0.8)  # the same size population
            q_range = {
                "Smooth, Completely round": (0.82, 1.0),
                "Smooth, in-between round": (0.48, 0.88),
                "Smooth, Cigar shaped": (0.18, 0.52),
                "Round Smooth": (0.82, 1.0),
                "In-between Round Smooth": (0.48, 0.88),
                "Cigar Shaped Smooth": (0.18, 0.52),
                "elliptical": (0.3, 1.0),
            }[name]
            p.q_smooth[idx] = rng.uniform(*q_range, k)
        elif "Edge-on" in name or name == "edge-on":
            p.incl[idx] = deg(rng.uniform(82, 90, k))
            p.bt[idx] = rng.uniform(0.15, 0.5, k)
            p.q_bulge[idx] = rng.uniform(0.7, 1.0, k)
            if name == "Disk, Edge-on, Boxy Bulge":
                p.box[idx] = rng.uniform(3.0, 5.0, k)
            elif name in ("Disk, Edge-on, No Bulge", "Edge-on without Bulge"):
                p.bt[idx] = rng.uniform(0.0, 0.03, k)
            elif name == "edge-on":
                p.bt[idx] = rng.uniform(0.0, 0.4, k)
            p.dust[idx] = np.where(rng.uniform(size=k) < 0.5, rng.uniform(0.3, 0.7, k), 0)
        elif name in ("merger", "Merging"):
            p.merger[idx] = True
        elif name == "Disturbed":  # one galaxy, lopsided and clumpy, with a tidal feature
            p.incl[idx] = deg(rng.uniform(0, 70, k))
            p.bt[idx] = rng.uniform(0.0, 0.25, k)
            p.q_bulge[idx] = rng.uniform(0.7, 1.0, k)
            p.lopsided[idx] = rng.uniform(0.6, 1.0, k)
            p.lop_angle[idx] = rng.uniform(0, 2 * np.pi, k)
            p.clumps[idx] = rng.uniform(0.15, 0.35, k)
            p.tail[idx] = rng.uniform(0.1, 0.25, k)
            # weak, irregular arms in some
            p.arms[idx] = np.where(rng.uniform(size=k) < 0.4, rng.uniform(0.2, 0.5, k), 0)
            p.pitch[idx] = deg(rng.uniform(15, 40, k))
        else:  # face-on disks, with or without spiral arms
            p.incl[idx] = deg(rng.uniform(0, 55, k))
            p.bt[idx] = rng.uniform(0.1, 0.6, k)
            p.q_bulge[idx] = rng.uniform(0.8, 1.0, k)
            pitch = {
                "Disk, Face-on, Tight Spiral": (7, 14),
                "Disk, Face-on, Medium Spiral": (13, 24),
                "Disk, Face-on, Loose Spiral": (23, 38),
                "face-on spiral": (7, 38),
                "Barred Spiral": (7, 38),
                "Unbarred Tight Spiral": (7, 17),
                "Unbarred Loose Spiral": (16, 38),
            }.get(name)
            if pitch is not None:
                p.arms[idx] = rng.uniform(0.4, 0.9, k)
                p.pitch[idx] = deg(rng.uniform(*pitch, k))
                # star-forming knots along the disk
                p.clumps[idx] = rng.uniform(0.05, 0.2, k)
            else:  # Disk, Face-on, No Spiral: a disk without arms (lenticular-like)
                p.bt[idx] = rng.uniform(0.3, 0.8, k)
                # lenses (a flat shelf) in about half of S0s (Laurikainen et al. 2009,
                # ApJ 692, L34), rings in about a third (Comeron et al. 2014, A&A 562, A121)
                p.lens[idx] = np.where(rng.uniform(size=k) < 0.5, rng.uniform(0.1, 0.3, k), 0)
                p.ring[idx] = np.where(rng.uniform(size=k) < 0.3, rng.uniform(0.05, 0.15, k), 0)
            # strong bars in ~30% of disks (Masters et al. 2011, MNRAS 411, 2026), holding
            # 5-20% of the light (Gadotti 2009, MNRAS 393, 1531: bar/T ~ 0.1)
            p.bar[idx] = np.where(rng.uniform(size=k) < 0.3, rng.uniform(0.05, 0.2, k), 0)
            if name == "Barred Spiral":  # DECaLS's barred class: a clear bar in every one
                p.bar[idx] = rng.uniform(0.08, 0.25, k)
            elif name.startswith("Unbarred"):
                p.bar[idx] = 0
    p.re_bulge = np.where(p.smooth, p.re_bulge, p.re_disk * rng.uniform(0.15, 0.35, len(labels)))
    mean = np.where(p.smooth, _COLOUR_MEAN[0], _COLOUR_MEAN[1]).astype(F)
    p.red[:] = np.clip(rng.normal(mean, _COLOUR_SCATTER), 0.0, 1.0)


def _normalise(img):
    total = img.sum(axis=(-2, -1), keepdims=True, dtype=np.float64).astype(F)
    return img / np.where(total > 0, total, F(1.0))


def _disk(p: _Params, idx, size, rng):
    """Exponential disk with log-spiral arms and dust lane (unit flux), shape (k, S, S)."""
    a = axis(size)
    dx = a[None, None, :] - p.x0[idx, None, None]
    dy = a[None, :, None] - p.y0[idx, None, None]
    c, s = np.cos(p.theta[idx])[:, None, None], np.sin(p.theta[idx])[:, None, None]
    major = dx * c + dy * s
    minor = dy * c - dx * s
    cosi = np.cos(p.incl[idx])[:, None, None]
    q = np.sqrt(cosi**2 + (p.q0[idx, None, None] * np.sin(p.incl[idx])[:, None, None]) ** 2)
    h = (p.re_disk[idx] / F(1.678))[:, None, None]  # scale length from half-light radius
    r_proj = np.sqrt(major**2 + (minor / q) ** 2)
    disk = np.exp(-r_proj / h)
    arms = p.arms[idx]
    if (arms > 0).any():
        r_plane = np.sqrt(major**2 + (minor / np.maximum(cosi, F(0.2))) ** 2) + F(0.5)
        phi = np.arctan2(minor / np.maximum(cosi, F(0.2)), major)
        wind = np.log(r_plane) / np.tan(p.pitch[idx])[:, None, None]
        wave = F(0.5) * (F(1.0) + np.cos(p.m_arms[idx, None, None] * (phi - wind)))
        ramp = F(1.0) - np.exp(-r_plane / (F(1.5) * h))  # arms grow out of the bulge region
        disk *= F(1.0) + arms[:, None, None] * (F(3.0) * wave**2 - F(1.0)) * ramp
        np.maximum(disk, 0, out=disk)
    lop = p.lopsided[idx]
    if (lop > 0).any():  # m = 1: one side of the disk brighter and more extended
        phi = np.arctan2(minor / np.maximum(cosi, F(0.2)), major)
        ramp = F(1.0) - np.exp(-r_proj / h)
        disk *= F(1.0) + lop[:, None, None] * np.cos(phi - p.lop_angle[idx, None, None]) * ramp
        np.maximum(disk, 0, out=disk)
    disk = _normalise(disk)
    shares = p.bar[idx] + p.ring[idx] + p.lens[idx] + p.clumps[idx]
    if (shares > 0).any():
        disk = _structure(p, idx, disk, major, minor, cosi, rng)
    lane = F(1.0) - p.dust[idx, None, None] * np.exp(-F(0.5) * (minor / F(0.8)) ** 2)
    return disk, lane


def _structure(p: _Params, idx, disk, major, minor, cosi, rng):
    """Add bars, rings, lenses and star-forming knots to unit-flux disks (k, S, S).

    Each component is drawn in the disk plane (so it is foreshortened with the disk),
    normalised to unit flux and added with its flux share, the smooth disk keeping the
    rest: the galaxy's total light, and so every trivial brightness statistic, is
    unchanged.
    """
    shares = {name: getattr(p, name)[idx] for name in ("bar", "ring", "lens", "clumps")}
    out = disk * (F(1.0) - sum(shares.values()))[:, None, None]
    for name, share in shares.items():
        rows = np.flatnonzero(share > 0)  # only the disks that have this component
        if not len(rows):
            continue
        at = idx[rows]
        u = major[rows]
        v = minor[rows] / np.maximum(cosi[rows], F(0.2))  # in-plane coordinates
        re = p.re_disk[at, None, None]
        if name == "bar":  # a Ferrers bar (n = 2): flat, with sharp ends
            c, s = np.cos(p.bar_angle[at])[:, None, None], np.sin(p.bar_angle[at])[:, None, None]
            length = p.bar_len[at, None, None] * re
            along = (u * c + v * s) / length
            across = (v * c - u * s) / (length * p.bar_q[at, None, None])
            part = np.clip(F(1.0) - along**2 - across**2, 0, None) ** 2
        elif name == "ring":  # a thin annulus
            radius = p.ring_r[at, None, None] * re
            r = np.sqrt(u * u + v * v)
            part = np.exp(-F(0.5) * ((r - radius) / (F(0.12) * radius + F(0.5))) ** 2)
        elif name == "lens":  # a shelf of near-constant surface brightness
            r2 = (u * u + v * v) / (F(0.8) * re) ** 2
            part = F(1.0) / (F(1.0) + r2**4)
        else:  # unresolved knots where the disk (and its arms) are bright
            k, size = len(rows), disk.shape[-1]
            cdf = np.cumsum(disk[rows].reshape(k, -1), axis=1)
            part = np.zeros((k, size * size), F)
            picks = rng.uniform(size=(N_KNOTS, k)) * cdf[:, -1]
            for pick in picks:
                where = np.minimum((cdf < pick[:, None]).sum(axis=1), size * size - 1)
                part[np.arange(k), where] += F(1.0)
            part = part.reshape(k, size, size)
        out[rows] += _normalise(part.astype(F)) * share[rows, None, None]
    return out


def _bulge(p: _Params, idx, size):
    q = np.where(p.smooth[idx], p.q_smooth[idx], p.q_bulge[idx])
    boxy = p.box[idx] if (p.box[idx] != 2.0).any() else None
    return sersic(
        p.x0[idx],
        p.y0[idx],
        p.re_bulge[idx],
        p.n_bulge[idx],
        q,
        p.theta[idx],
        np.ones(len(idx), F),
        np.full(len(idx), F(0.3)),
        size,
        boxiness=boxy,
    )


def _colours(rng, k, g, i):
    return np.stack([_logu(rng, *g, k), np.ones(k, F), _logu(rng, *i, k)], axis=1)


def _galaxy_images(p: _Params, idx, rng, size):
    """Unconvolved (k, 3, S, S) images of ordinary (non-merger) galaxies."""
    k = len(idx)
    out = np.zeros((k, 3, size, size), F)
    bulge = _bulge(p, idx, size)
    # a mild colour gradient: bulges a little redder than their galaxy, disks and arms bluer
    red = _band_ratios(np.clip(p.red[idx] + F(0.05), 0, 1))
    disk, lane = _disk(p, idx, size, rng)
    blue = _band_ratios(np.clip(p.red[idx] - F(0.05), 0, 1))
    bt = np.where(p.smooth[idx], F(1.0), p.bt[idx])
    for band in range(3):
        lane_b = lane ** (1.0 + 0.5 * (2 - band))  # dust dims g most
        img = (
            bulge * (bt * red[:, band])[:, None, None]
            + disk * ((1 - bt) * blue[:, band])[:, None, None]
        )
        out[:, band] = img * lane_b
    return out * p.flux[idx, None, None, None]


def _mergers(p: _Params, idx, rng, size):
    """Two interacting galaxies with tidal tails."""
    k = len(idx)
    if not k:
        return np.zeros((0, 3, size, size), F)
    # nuclei separated by about a disk size, and never closer than ~2.5 seeing FWHM
    sep = np.maximum(rng.uniform(0.8, 1.6, k).astype(F) * p.re_disk[idx] * 1.5, F(8.0) * p.scale)
    ang = rng.uniform(0, 2 * np.pi, k).astype(F)
    images = np.zeros((k, 3, size, size), F)
    first = rng.uniform(0.5, 0.8, k).astype(F)  # flux share of the first galaxy
    for side, weight in ((+1, first), (-1, F(1.0) - first)):
        sub = _Params(k, rng, size)
        sub.scale = p.scale
        spheroid = rng.uniform(size=k) < 0.5
        sub.smooth[:] = spheroid
        sub.n_bulge[:] = rng.uniform(2.5, 4.5, k)
        sub.q_smooth[:] = rng.uniform(0.5, 1.0, k)
        sub.incl[:] = np.deg2rad(rng.uniform(0, 70, k))
        sub.bt[:] = rng.uniform(0.1, 0.5, k)
        sub.re_disk[:] = p.re_disk[idx] * rng.uniform(0.5, 0.9, k)
        sub.re_bulge[:] = np.where(spheroid, sub.re_disk * 0.8, sub.re_disk * 0.25)
        sub.red[:] = np.clip(rng.normal(0.5, _COLOUR_SCATTER, k), 0.0, 1.0)
        sub.x0[:] = p.x0[idx] + side * np.cos(ang) * sep / 2
        sub.y0[:] = p.y0[idx] + side * np.sin(ang) * sep / 2
        sub.flux[:] = p.flux[idx] * weight
        images += _galaxy_images(sub, np.arange(k), rng, size)
        # a tidal tail: a faint curved arc leaving the galaxy
        tail = _tail(sub.x0, sub.y0, ang + (0 if side > 0 else np.pi), sep, rng, size)
        tail_flux = sub.flux * rng.uniform(0.05, 0.15, k).astype(F)
        images += (
            tail[:, None]
            * tail_flux[:, None, None, None]
            * np.array([0.8, 1.0, 1.1], F)[None, :, None, None]
        )
    return images


def _tail(x0, y0, direction, sep, rng, size):
    k = len(x0)
    a = axis(size)
    dx = a[None, None, :] - x0[:, None, None]
    dy = a[None, :, None] - y0[:, None, None]
    r = np.sqrt(dx**2 + dy**2) + F(0.5)
    phi = np.arctan2(dy, dx) - direction[:, None, None]
    curl = (
        rng.uniform(0.5, 1.2, k).astype(F)[:, None, None]
        * np.where(rng.uniform(size=k) < 0.5, 1, -1)[:, None, None]
    )
    arc = np.cos(phi - curl * np.log(r / sep[:, None, None] + F(1.0)))
    width = np.exp(-F(0.5) * ((F(1.0) - arc) / F(0.05)) ** 2)
    along = np.exp(-r / (F(1.5) * sep[:, None, None]))
    return _normalise((width * along).astype(F))


def _psf_convolve(images, fwhm, beta):
    """Linear (zero-padded FFT) convolution of (k, 3, S, S) with a Moffat PSF per band.

    The kernel is cut at 6 FWHM (about 0.3% of a Moffat's flux lies further out) and
    renormalised; padding the FFT to ``S + radius`` is enough to avoid wrap-around.
    """
    from scipy import fft

    k, nb, s, _ = images.shape
    half = int(min(s // 2, np.ceil(6 * float(fwhm.max()))))
    size = 2 * half + 1
    centre = np.full(k * nb, half, F)
    kernel = moffat(centre, centre, fwhm.reshape(-1), np.repeat(beta, nb), np.ones(k * nb, F), size)
    kernel = _normalise(kernel).reshape(k, nb, size, size)
    n = fft.next_fast_len(s + half + 1, real=True)
    padded = np.zeros((k, nb, n, n), F)
    padded[..., :size, :size] = kernel
    padded = np.roll(padded, (-half, -half), axis=(-2, -1))  # kernel centre to the origin
    out = fft.irfft2(fft.rfft2(images, s=(n, n)) * fft.rfft2(padded), s=(n, n))
    return out[..., :s, :s].astype(F)


def render_batch(labels: np.ndarray, cfg: GalaxyConfig, rng: np.random.Generator):
    """Images (B, S, S, 3) float32 and per-galaxy truth for a batch of class labels."""
    b, s = len(labels), cfg.size
    p = _Params(b, rng, s)
    _assign(p, rng, labels, cfg.classes)
    images = np.zeros((b, 3, s, s), F)
    plain = np.flatnonzero(~p.merger)
    if len(plain):
        images[plain] = _galaxy_images(p, plain, rng, s)
    merge = np.flatnonzero(p.merger)
    if len(merge):
        images[merge] = _mergers(p, merge, rng, s)
    tails = np.flatnonzero(p.tail > 0)
    if len(tails):  # the disturbed galaxies' one-sided tidal feature, bluish like the disk
        sep = F(1.5) * p.re_disk[tails]
        tail = _tail(p.x0[tails], p.y0[tails], p.lop_angle[tails], sep, rng, s)
        flux = p.flux[tails] * p.tail[tails]
        images[tails] *= (F(1.0) - p.tail[tails])[:, None, None, None]
        images[tails] += (
            tail[:, None]
            * flux[:, None, None, None]
            * np.array([0.9, 1.0, 1.0], F)[None, :, None, None]
        )
    # field stars and small galaxies
    n_nb = rng.integers(0, cfg.max_neighbours + 1, b)
    for j in range(cfg.max_neighbours):
        idx = np.flatnonzero(n_nb > j)
        if not len(idx):
            continue
        k = len(idx)
        xs = rng.uniform(0, s - 1, k).astype(F)
        ys = rng.uniform(0, s - 1, k).astype(F)
        flux = _logu(rng, 500, 2e4, k) * p.scale**2
        col = _colours(rng, k, (0.4, 1.2), (0.8, 1.4))
        blob = sersic(
            xs,
            ys,
            rng.uniform(0.3, 2.0, k) * p.scale,
            np.full(k, 1.0, F),
            rng.uniform(0.5, 1, k),
            rng.uniform(0, np.pi, k),
            np.ones(k, F),
            np.full(k, 0.3, F),
            s,
        )
        images[idx] += blob[:, None] * (flux[:, None] * col)[:, :, None, None]
    fwhm = rng.uniform(*cfg.fwhm_range, b).astype(F)[:, None] * np.array([1.06, 1.0, 0.96], F)
    fwhm *= p.scale
    beta = rng.uniform(2.5, 4.5, b).astype(F)
    images = _psf_convolve(images, fwhm, beta)
    sky = SKY[None, :] * rng.uniform(0.7, 1.5, (b, 1)).astype(F)
    if cfg.noise:
        var = np.maximum(images, 0) + (sky + READ_NOISE**2)[:, :, None, None]
        images += standard_normal(rng, images.shape) * np.sqrt(var)
    meta = {
        "label": labels,
        "flux": p.flux,
        "re_disk": p.re_disk,
        "re_bulge": p.re_bulge,
        "bulge_to_total": np.where(p.smooth, F(1.0), p.bt),
        "inclination_deg": np.rad2deg(p.incl),
        "axis_ratio": np.where(p.smooth, p.q_smooth, np.nan),
        "pitch_deg": np.where(p.arms > 0, np.rad2deg(p.pitch), np.nan),
        "arm_amplitude": p.arms,
        "boxiness": p.box,
        "dust": p.dust,
        "bar": p.bar,
        "ring": p.ring,
        "lens": p.lens,
        "knots": p.clumps,
        "merger": p.merger,
        "lopsided": p.lopsided,
        "tail": p.tail,
        "n_neighbours": n_nb,
        "fwhm_r": fwhm[:, 1],
        "distance": p.distance,
        "colour": p.red,
    }
    return np.ascontiguousarray(np.moveaxis(images, 1, -1)), meta


def meta_frame(meta: dict) -> pd.DataFrame:
    frame = pd.DataFrame({k: v for k, v in meta.items() if k != "label"})
    return frame

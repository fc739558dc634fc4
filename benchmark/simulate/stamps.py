"""Simulated SDSS-II SN survey difference-image stamps (``sim-sdss-sn``).

The scene model follows the hand-scanning data of seed 001 (du Buisson et al.
2015): 69x69 stamps of 0.396" pixels and the 10 hand-scanning classes.

Physics, per stamp and band:

* Seeing: the new epoch has a Moffat PSF with FWHM drawn from ``fwhm_range``
  (varying per band), the reference (a deeper co-add) a sharper one.  PSF
  matching degrades the sharper image to the broader PSF, so the difference
  image has FWHM ``max(new, ref)``.
* Static sources (host galaxies, field stars and galaxies, a variable's star,
  a dipole's star or galaxy core, a saturated star) cancel in the difference
  except for imperfect matching: the matched reference is rendered with a
  slightly wrong width (``1 + eps``, eps ~ N(0, 4%)) and shifted by the
  registration error (0.08 px per axis, ~0.11 px rms, about SDSS's relative
  astrometry; 0.15-1 px for the Dipole class).  So real transients on bright
  hosts carry subtraction residuals too, as they do in survey data.
* Positions: every stamp is centred on its detection: the transient, the
  positive lobe of a dipole, a point-like artefact.  Extended artefacts (bad
  columns, satellite trails, diffraction spikes, ghosts) lie anywhere around it.
* Saturated stars follow the star counts (``saturated_brightness``): most are
  only just saturated.  Their residuals stay far brighter than anything else
  (median matched-filter SNR ~1,000 against ~17 for every other class): they are
  the easy class of this data set, as they were for the SDSS scanners.  The
  residuals have zero net flux.
* Transients (SNe, transients, variables' flux change, asteroids) are Moffat
  point sources at the difference-image PSF.
* Noise: Gaussian with the Poisson variance of sky plus source counts, read
  noise, and the reference's noise (depth ``n_ref`` epochs).
* Brightness: each stamp's class feature (point source, dipole lobes,
  artefact) is scaled to a matched-filter SNR, ``sqrt(sum(model**2)) / sigma``
  in the detection band, drawn for every class from one law: N(>SNR) ~ SNR**-snr_slope
  inside ``snr_range`` (slope 1, measured on real ZTF alerts; 0 is log-uniform).

Layouts: ``gri`` (difference images in g, r, i, as SDSS scanners saw them) and
``triplet`` (science, reference, difference in one band, 63x63 by default, as
ZTF, DES and braai use).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..datasets.taxonomy import SDSS_SN
from ..errors import ConfigError, UnknownNameError
from ._classes import check_fractions, exact_counts
from ._profiles import (
    F,
    add_noise,
    line,
    moffat,
    moffat_alpha,
    moffat_residual,
    sersic,
    sersic_residual,
    standard_normal,
)

__all__ = ["BANDS", "CLASSES", "DEFAULT_FRACTIONS", "PIXEL_SCALE", "StampConfig", "render_batch"]

#: Generator version: bump it when the output changes, so cached simulations are remade.
VERSION = 7
CLASSES = SDSS_SN.classes("original")
BANDS = ("g", "r", "i")
PIXEL_SCALE = 0.396  # arcsec per pixel (SDSS)
#: Seconds after the r exposure at which SDSS drift-scan images each band.
BAND_TIMES = {"r": 0.0, "i": 71.7, "g": 286.8}
SKY = {"g": 70.0, "r": 100.0, "i": 140.0}  # sky counts per pixel (gain 1)
SEEING_FACTOR = {"g": 1.06, "r": 1.0, "i": 0.96}
READ_NOISE = 5.0
#: Slope of the detections' SNR counts, N(>SNR) ~ SNR**-slope: most candidates lie near
#: the detection threshold.  Measured on the 67 real alerts in ../shared/data/ztf_alerts
#: (SNR = 1.0857 / sigmapsf; maximum-likelihood slope above 5: 1.02, median SNR 11);
#: used for both layouts (SDSS-II's candidates: no public sample to measure).
SNR_SLOPE = 1.0
#: The ``triplet`` layout follows ZTF's alert cutouts (Masci et al. 2019, PASP 131,
#: 018003; measured on the real alerts in ../shared/data/ztf_alerts): 63x63 pixels of
#: 1.0", a sky of ~100-300 counts in science and reference (the reference scaled to the
#: science image), a deep co-add reference (noise ~2 counts against ~14), seeing FWHM
#: ~1.5-4 px (median ~2.6), detections above 5 sigma, and the difference shown with its
#: detection positive (negative detections, ``isdiffpos = "f"``, are flipped).
ZTF = MappingProxyType(
    {
        "pixel_scale": 1.0,
        "sky": (100.0, 300.0),
        "n_ref": (15.0, 60.0),
        "fwhm_ref": (1.4, 2.2),
        "fwhm_range": (1.5, 4.0),
        "snr_range": (5.0, 150.0),
        "snr_slope": SNR_SLOPE,
        "edge_fraction": 0.03,
    }
)
SDSS = MappingProxyType(
    {
        "fwhm_range": (2.5, 6.0),
        "snr_range": (3.0, 100.0),
        "snr_slope": SNR_SLOPE,
        "edge_fraction": 0.0,
    }
)
#: About du Buisson et al.'s test set: 56% real, 44% not real.
DEFAULT_FRACTIONS = MappingProxyType(
    {
        "Artefact": 0.20,
        "Dipole": 0.16,
        "Saturated Star": 0.08,
        "Moving": 0.06,
        "Variable": 0.08,
        "Transient": 0.06,
        "SN Other": 0.08,
        "SN Bronze": 0.08,
        "SN Silver": 0.10,
        "SN Gold": 0.10,
    }
)
#: Relative error of the photometric scaling between the new image and the reference, per
#: band (rms): a static source of flux f leaves a residual of about ``ZP_SCATTER * f`` times
#: its PSF besides its registration and PSF-matching residuals.  SDSS's relative photometric
#: calibration is good to 1-2% (Ivezic et al. 2004, AN 325, 583; Padmanabhan et al. 2008,
#: ApJ 674, 1217).
ZP_SCATTER = 0.02
#: Saturated stars: the slope of the star counts, the range of peak / saturation level,
#: and the relative scatter of the reference's saturation level (see saturated_brightness).
SATURATED_GAMMA = 0.75
SATURATED_OVER = (1.2, 100.0)
SATURATED_LEVEL_SCATTER = 0.03
#: The ``triplet`` (ZTF) layout's default mix: the same 56% real, but as in ZTF's public
#: alert stream most real alerts are variable stars (Patterson et al. 2019, PASP 131,
#: 018001; in ../shared/data/ztf_alerts nearly every alert sits on a star, 55% of them
#: fading), fewer are supernovae.
TRIPLET_FRACTIONS = MappingProxyType(
    {
        "Artefact": 0.20,
        "Dipole": 0.16,
        "Saturated Star": 0.08,
        "Moving": 0.06,
        "Variable": 0.30,
        "Transient": 0.04,
        "SN Other": 0.04,
        "SN Bronze": 0.04,
        "SN Silver": 0.04,
        "SN Gold": 0.04,
    }
)
ARTEFACT_KINDS = (
    "cosmic-ray",
    "hot-pixel",
    "bad-column",
    "diffraction-spike",
    "satellite",
    "psf-mismatch",
    "ghost",
)
#: Shares of the artefact kinds among scanned candidates.  SDSS-II passed a candidate to
#: the scanners only when it was detected in at least two of g, r, i (Sako et al. 2008,
#: AJ 135, 348), which removed most single-exposure artefacts (cosmic rays, hot pixels,
#: bad columns): the kinds seen in several bands dominate what the scanners saw.
ARTEFACT_P = (0.10, 0.05, 0.05, 0.20, 0.10, 0.30, 0.20)
#: Classes hand scanners confuse with each class (used by ``label_noise``).
CONFUSABLE = {
    "Artefact": ("Dipole", "Transient", "SN Silver"),
    "Dipole": ("Artefact", "Variable", "SN Bronze"),
    "Saturated Star": ("Dipole", "Artefact"),
    "Moving": ("Transient", "Artefact", "SN Silver"),
    "Variable": ("SN Bronze", "SN Silver", "Dipole"),
    "Transient": ("SN Silver", "SN Other", "Artefact"),
    "SN Other": ("SN Gold", "Transient", "Variable"),
    "SN Bronze": ("Variable", "SN Gold", "Dipole"),
    "SN Silver": ("Transient", "SN Other", "Artefact"),
    "SN Gold": ("SN Other", "SN Bronze", "SN Silver"),
}


@dataclass(frozen=True)
class StampConfig:
    """Parameters of ``sim-sdss-sn``.

    Parameters
    ----------
    n : int
        Number of stamps (default 21,785 as in the paper).
    layout : {"gri", "triplet"}
    size : int, optional
        Stamp size in pixels (default 69 for ``gri``, 63 for ``triplet``).
    band : {"g", "r", "i"}
        The band of the ``triplet`` layout.
    fractions : mapping of class name to fraction, optional
        Class frequencies (must sum to 1); missing classes get 0.  Default: about
        du Buisson et al.'s mix for ``gri``, a ZTF alert-stream mix (mostly variable
        stars) for ``triplet``; both 56% real.
    snr_range : (float, float), optional
        Matched-filter SNR range of the class feature; default 3-100 for ``gri``,
        5-150 for ``triplet`` (ZTF's 5-sigma detections).
    snr_slope : float, optional
        The SNR law inside ``snr_range``: N(>SNR) ~ SNR**-snr_slope, truncated
        (0: log-uniform); default ``SNR_SLOPE`` (1.0, measured on real ZTF alerts).
    fwhm_range : (float, float), optional
        New-epoch seeing FWHM in pixels (r band); default 2.5-6 (SDSS, 0.396"
        pixels) for ``gri``, 1.5-4 (ZTF, 1" pixels) for ``triplet``.
    edge_fraction : float, optional
        Share of cutouts at a CCD edge, their missing side NaN-padded as in ZTF
        alerts (default 0 for ``gri``, 0.03 for ``triplet``).
    max_neighbours : int, optional
        Up to this many field stars and galaxies per stamp (default 2 for ``gri``, 6
        for ``triplet``).
    noise : bool
        Add noise (turn off for physics checks).
    label_noise : float
        Fraction of stamps whose hand-scanning label is wrong: the stamp shows a
        class scanners confuse with its label (``meta["true_class"]`` keeps the
        truth).  Real scanning labels are imperfect; 0 gives perfect labels.
    """

    n: int = 21785
    layout: str = "gri"
    size: int | None = None
    band: str = "r"
    fractions: Mapping | None = None
    snr_range: tuple | None = None
    snr_slope: float | None = None
    fwhm_range: tuple | None = None
    edge_fraction: float | None = None
    max_neighbours: int | None = None
    noise: bool = True
    label_noise: float = 0.04

    def __post_init__(self):
        if int(self.n) <= 0:
            msg = f"n must be a positive number of stamps, got {self.n}"
            raise ConfigError(msg)
        if self.layout not in ("gri", "triplet"):
            msg = f"unknown layout {self.layout!r}; valid: gri, triplet"
            raise UnknownNameError(msg)
        size = self.size or (69 if self.layout == "gri" else 63)
        if int(size) < 16:
            msg = f"size must be at least 16 pixels, got {size}"
            raise ConfigError(msg)
        object.__setattr__(self, "size", int(size))
        object.__setattr__(self, "n", int(self.n))
        if self.band not in BANDS:
            msg = f"unknown band {self.band!r}; valid: {', '.join(BANDS)}"
            raise UnknownNameError(msg)
        default = DEFAULT_FRACTIONS if self.layout == "gri" else TRIPLET_FRACTIONS
        fractions = check_fractions(self.fractions or default, CLASSES)
        object.__setattr__(self, "fractions", fractions)
        survey = SDSS if self.layout == "gri" else ZTF
        for name in ("snr_range", "snr_slope", "fwhm_range", "edge_fraction"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, survey[name])
        for name in ("snr_slope", "edge_fraction"):
            try:
                object.__setattr__(self, name, float(getattr(self, name)))
            except (TypeError, ValueError):
                msg = f"{name} must be a number, got {getattr(self, name)!r}"
                raise ConfigError(msg) from None
        if not 0.0 <= float(self.snr_slope) <= 5.0:
            msg = f"snr_slope must lie in [0, 5] (N(>SNR) ~ SNR**-slope), got {self.snr_slope}"
            raise ConfigError(msg)
        object.__setattr__(self, "snr_slope", float(self.snr_slope))
        if not 0.0 <= float(self.edge_fraction) < 1.0:
            msg = f"edge_fraction must lie in [0, 1), got {self.edge_fraction}"
            raise ConfigError(msg)
        object.__setattr__(self, "edge_fraction", float(self.edge_fraction))
        for name in ("snr_range", "fwhm_range"):
            try:
                lo, hi = (float(v) for v in getattr(self, name))
            except (TypeError, ValueError):
                msg = f"{name} must be two positive numbers, low <= high; got {getattr(self, name)}"
                raise ConfigError(msg) from None
            if not 0 < lo <= hi:
                msg = f"{name} must be two positive numbers, low <= high; got {getattr(self, name)}"
                raise ConfigError(msg)
            object.__setattr__(self, name, (lo, hi))
        if self.max_neighbours is None:  # ZTF's fields, near the plane too, are crowded
            object.__setattr__(self, "max_neighbours", 2 if self.layout == "gri" else 6)
        object.__setattr__(self, "max_neighbours", int(self.max_neighbours))
        if self.max_neighbours < 0:
            msg = f"max_neighbours must be >= 0, got {self.max_neighbours}"
            raise ConfigError(msg)
        if not 0.0 <= float(self.label_noise) < 0.5:
            msg = f"label_noise must lie in [0, 0.5), got {self.label_noise}"
            raise ConfigError(msg)

    @property
    def bands(self) -> tuple[str, ...]:
        return BANDS if self.layout == "gri" else (self.band,)

    @property
    def channels(self) -> tuple[str, ...]:
        """The ``ztf-alerts`` loader's channel names for ``triplet`` (ZTF's cutout order)."""
        return BANDS if self.layout == "gri" else ("science", "reference", "difference")

    @property
    def pixel_scale(self) -> float:
        """Arcseconds per pixel: SDSS's for ``gri``, ZTF's for ``triplet``."""
        return PIXEL_SCALE if self.layout == "gri" else ZTF["pixel_scale"]

    def counts(self) -> np.ndarray:
        """Exact number of images per class (largest-remainder rounding)."""
        return exact_counts(self.fractions, CLASSES, self.n)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["snr_range"], d["fwhm_range"] = list(self.snr_range), list(self.fwhm_range)
        return d


#: The parameter class of this simulation (``datasets.load(name, **params)``).
CONFIG_CLASS = StampConfig


def _rows(idx):
    """A slice when ``idx`` is a contiguous run (in-place updates), else the index array."""
    idx = np.asarray(idx)
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx) and (np.diff(idx) == 1).all():
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


#: Field stars and galaxies are rendered on a patch this wide around them (pixels): at
#: 15 px from a 4-px-FWHM star of 30,000 counts the light left out is under 1 count.
NEIGHBOUR_WINDOW = 31
#: Transients' point sources likewise (the wings of an SNR-150 point source at 20 px from
#: it are below 0.1 sigma of the noise).
POINT_WINDOW = 41


def _patch(x, y, width, size):
    """One patch per stamp around positions (k,) or per band (k, nb): ``(ox, oy, x, y, w)``.

    The patch is ``width`` pixels wide (plus the spread of a stamp's per-band positions,
    at most the stamp ``size``), centred on the mean position; ``(ox, oy)`` are its
    lower-left corners in the stamp and ``(x, y)`` the positions inside it.
    """
    k = len(x)
    x, y = np.asarray(x, F).reshape(k, -1), np.asarray(y, F).reshape(k, -1)
    mx, my = x.mean(axis=1), y.mean(axis=1)
    spread = max(np.abs(x - mx[:, None]).max(), np.abs(y - my[:, None]).max()) if k else 0
    w = min(width + 2 * int(np.ceil(spread)), size)
    ox = np.round(mx).astype(np.int64) - w // 2
    oy = np.round(my).astype(np.int64) - w // 2
    x, y = x - ox[:, None].astype(F), y - oy[:, None].astype(F)
    if x.shape[1] == 1:
        x, y = x[:, 0], y[:, 0]
    return ox, oy, x, y, w


def _paste(idx, ox, oy, *pairs):
    """Add each ``(target, patches)`` pair's patches (k, nb, w, w) into ``target[idx]``.

    The patches' lower-left corners lie at ``(ox, oy)`` in the stamp; what falls outside
    the stamp is dropped.
    """
    s, w = pairs[0][0].shape[-1], pairs[0][1].shape[-1]
    ox, oy = np.asarray(ox, np.int64), np.asarray(oy, np.int64)
    xa, xb = np.clip(ox, 0, s), np.clip(ox + w, 0, s)
    ya, yb = np.clip(oy, 0, s), np.clip(oy + w, 0, s)
    inside = np.flatnonzero((xa < xb) & (ya < yb))
    columns = (np.asarray(idx)[inside], inside, xa[inside], xb[inside], ya[inside], yb[inside])
    columns += (xa[inside] - ox[inside], xb[inside] - ox[inside])
    columns += (ya[inside] - oy[inside], yb[inside] - oy[inside])
    for row, i, x0, x1, y0, y1, u0, u1, v0, v1 in zip(*(c.tolist() for c in columns)):
        for target, patches in pairs:
            target[row, :, y0:y1, x0:x1] += patches[i, :, v0:v1, u0:u1]


def _logu(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n)).astype(F)


class _Batch:
    """Accumulates the model images of one batch of stamps, band by band."""

    def __init__(self, labels: np.ndarray, cfg: StampConfig, rng: np.random.Generator):
        self.cfg, self.rng, self.labels = cfg, rng, labels
        b, nb, s = len(labels), len(cfg.bands), cfg.size
        self.B, self.nb, self.S = b, nb, s
        self.c = F((s - 1) / 2.0)
        factor = np.array([SEEING_FACTOR[x] for x in cfg.bands], F)
        jitter = F(1.0) + rng.normal(0, 0.02, (b, nb)).astype(F)
        self.fwhm_new = rng.uniform(*cfg.fwhm_range, b).astype(F)[:, None] * factor * jitter
        triplet = cfg.layout == "triplet"
        ref_range = ZTF["fwhm_ref"] if triplet else (2.3, 3.3)  # co-adds of good seeing
        self.fwhm_ref = rng.uniform(*ref_range, b).astype(F)[:, None] * factor
        self.fwhm_diff = np.maximum(self.fwhm_new, self.fwhm_ref)
        self.beta = rng.uniform(2.5, 4.5, b).astype(F)
        self.eps = rng.normal(0, 0.04, (b, nb)).astype(F)
        self.shift = rng.normal(0, 0.08, (b, 2)).astype(F)
        self.zp = rng.normal(0, ZP_SCATTER, (b, nb)).astype(F)
        if triplet:  # ZTF: sky in counts, a reference co-added from 15-60 epochs
            self.sky = _logu(rng, *ZTF["sky"], b)[:, None]
            self.n_ref = _logu(rng, *ZTF["n_ref"], b)
        else:
            sky = np.array([SKY[x] for x in cfg.bands], F)
            self.sky = sky * rng.uniform(0.7, 1.5, (b, 1)).astype(F)
            self.n_ref = rng.uniform(4, 12, b).astype(F)
        self.sigma = np.sqrt((self.sky + READ_NOISE**2) * (1 + 1 / self.n_ref[:, None]))
        det = cfg.bands.index("r") if "r" in cfg.bands else 0
        self.det = det
        self.diff = np.zeros((b, nb, s, s), F)
        self.var = np.zeros((b, nb, s, s), F)  # source Poisson variance (new epoch)
        self.new = np.zeros((b, nb, s, s), F) if triplet else None
        self.ref = np.zeros((b, nb, s, s), F) if triplet else None
        self.meta = {
            "snr": np.full(b, np.nan, F),
            "flux": np.full(b, np.nan, F),
            "x": np.full(b, self.c, F),
            "y": np.full(b, self.c, F),
            "host_flux": np.zeros(b, F),
            "host_offset": np.full(b, np.nan, F),
            "host_re": np.full(b, np.nan, F),
            "shift": np.hypot(self.shift[:, 0], self.shift[:, 1]),
            "artefact": np.array([""] * b, dtype=object),
            "n_neighbours": np.zeros(b, np.int64),
            "velocity": np.zeros(b, F),
        }

    # -- rendering helpers: every argument is per stamp (k,) or per stamp and band (k, nb) --
    def _rep(self, v, k):
        v = np.asarray(v, F)
        return np.broadcast_to(v[:, None] if v.ndim == 1 else v, (k, self.nb)).reshape(-1)

    def _moffat(self, idx, x, y, fwhm, flux, size=None):
        k, size = len(idx), size or self.S
        img = moffat(
            self._rep(x, k),
            self._rep(y, k),
            fwhm[idx].reshape(-1),
            np.repeat(self.beta[idx], self.nb),
            self._rep(flux, k),
            size,
        )
        return img.reshape(k, self.nb, size, size)

    def _sersic(self, idx, x, y, p, fwhm, size=None):
        k, size = len(idx), size or self.S
        img = sersic(
            self._rep(x, k),
            self._rep(y, k),
            self._rep(p["re"], k),
            self._rep(p["n"], k),
            self._rep(p["q"], k),
            self._rep(p["theta"], k),
            self._rep(p["flux"], k),
            fwhm[idx].reshape(-1) / F(2.355),
            size,
        )
        return img.reshape(k, self.nb, size, size)

    def static(self, idx, kind, x, y, params, window=None):
        """A static source: present in both epochs, so only the matching residual is left.

        The residual is linear in the small width error ``eps`` and registration
        shift, so it is built from the profile's analytic derivatives (one render).
        Galaxies are rendered once, at the detection band's seeing, for all bands.
        With ``window`` (pixels, odd) the source is rendered on a ``window`` x
        ``window`` patch around it and added where the patch overlaps the stamp:
        for field stars and galaxies, whose residuals vanish a few FWHM away.
        """
        if len(idx) == 0:
            return
        k, nb = len(idx), self.nb
        shift = self.shift[idx]
        x, y = np.broadcast_to(np.asarray(x, F), (k,)), np.broadcast_to(np.asarray(y, F), (k,))
        if window is None:
            sz, rows = self.S, _rows(idx)

            def add(target, img):
                target[rows] += img

        else:
            ox, oy, x, y, sz = _patch(x, y, int(window), self.S)

            def add(target, img):
                _paste(idx, ox, oy, (target, img))

        if kind == "star":
            p, res = moffat_residual(
                self._rep(x, k),
                self._rep(y, k),
                self.fwhm_diff[idx].reshape(-1),
                np.repeat(self.beta[idx], nb),
                self._rep(params["flux"], k),
                self.eps[idx].reshape(-1),
                self._rep(shift[:, 0], k),
                self._rep(shift[:, 1], k),
                sz,
            )
            res += self.zp[idx].reshape(-1)[:, None, None] * p
            add(self.diff, res.reshape(k, nb, sz, sz))
            add(self.var, p.reshape(k, nb, sz, sz))
        else:
            det = self.det
            flux = np.asarray(params["flux"], F)
            unit = {**params, "flux": np.ones(k, F)}
            p, g_eps, g_x, g_y = sersic_residual(
                x,
                y,
                unit["re"],
                unit["n"],
                unit["q"],
                unit["theta"],
                unit["flux"],
                self.fwhm_diff[idx, det] / F(2.355),
                sz,
            )
            g_x *= shift[:, 0, None, None]
            g_y *= shift[:, 1, None, None]
            g_x += g_y
            res = np.empty((k, nb, sz, sz), F)
            for j in range(nb):
                np.multiply(g_eps, self.eps[idx, j, None, None], out=res[:, j])
                res[:, j] += g_x
                res[:, j] += self.zp[idx, j, None, None] * p
            res *= flux[:, :, None, None]
            add(self.diff, res)
            np.multiply(p[:, None], flux[:, :, None, None], out=res)
            add(self.var, res)
        if self.new is not None:
            add(self.new, self._render(idx, kind, x, y, params, self.fwhm_new, sz))
            add(self.ref, self._render(idx, kind, x, y, params, self.fwhm_ref, sz))

    def _render(self, idx, kind, x, y, params, fwhm, size=None):
        if kind == "star":
            return self._moffat(idx, x, y, fwhm, params["flux"], size)
        return self._sersic(idx, x, y, params, fwhm, size)

    def static_exact(self, idx, kind, x, y, params, shift):
        """Residual model of a static source rendered twice (large shifts): (res, var, new, ref)."""
        xm, ym = np.asarray(x, F) + shift[:, 0], np.asarray(y, F) + shift[:, 1]
        wide = self.fwhm_diff * (F(1.0) + self.eps)
        a = self._render(idx, kind, x, y, params, self.fwhm_diff)
        m = self._render(idx, kind, xm, ym, params, wide)
        m *= (F(1.0) - self.zp[idx])[:, :, None, None]
        new = ref = None
        if self.new is not None:
            new = self._render(idx, kind, x, y, params, self.fwhm_new)
            ref = self._render(idx, kind, x, y, params, self.fwhm_ref)
        return a - m, a, new, ref

    def point(self, idx, x, y, flux):
        """Transient flux: a point source at the difference-image PSF (on a patch around it)."""
        if len(idx) == 0:
            return
        ox, oy, x, y, w = _patch(x, y, POINT_WINDOW, self.S)
        img = self._moffat(idx, x, y, self.fwhm_diff, flux, w)
        pairs = [(self.diff, img), (self.var, np.abs(img))]
        if self.new is not None:
            pairs.append((self.new, self._moffat(idx, x, y, self.fwhm_new, flux, w)))
        _paste(idx, ox, oy, *pairs)

    def colours(self, k, g=(0.5, 1.5), i=(0.6, 1.4)):
        ratio = {"g": _logu(self.rng, *g, k), "r": np.ones(k, F), "i": _logu(self.rng, *i, k)}
        return np.stack([ratio[b] for b in self.cfg.bands], axis=1)

    def unit_snr(self, idx, model):
        """Matched-filter SNR of a model (k, nb, S, S) in the detection band."""
        d = model[:, self.det]
        power = np.einsum("kij,kij->k", d, d, dtype=np.float64)
        return np.sqrt(power).astype(F) / self.sigma[idx, self.det]

    def draw_snr(self, k):
        return snr_law(self.rng, self.cfg.snr_range, self.cfg.snr_slope, k)


def _psf_flux(batch: _Batch, idx, snr):
    """Flux whose point source reaches ``snr`` (matched filter, background limited)."""
    alpha = moffat_alpha(batch.fwhm_diff[idx, batch.det], batch.beta[idx])
    beta = batch.beta[idx]
    nea = (2 * beta - 1) * np.pi * alpha**2 / (beta - 1) ** 2
    return (snr * batch.sigma[idx, batch.det] * np.sqrt(nea)).astype(F)


def _galaxy(rng, k, flux, re=(1.5, 8.0)):
    return {
        "re": _logu(rng, *re, k),
        "n": rng.uniform(0.7, 4.0, k).astype(F),
        "q": rng.uniform(0.3, 1.0, k).astype(F),
        "theta": rng.uniform(0, np.pi, k).astype(F),
        "flux": np.asarray(flux, F),
    }


def _scale_galaxy(p, colours):
    """Per-band host flux: hosts are redder than the transients on them."""
    return {**p, "flux": p["flux"][:, None] * colours}


def _supernova(batch: _Batch, idx, kind: str):
    rng, k, c = batch.rng, len(idx), batch.c
    snr = batch.draw_snr(k)
    flux_r = _psf_flux(batch, idx, snr)
    jitter = rng.uniform(-0.5, 0.5, (k, 2)).astype(F)
    x, y = c + jitter[:, 0], c + jitter[:, 1]
    colours = batch.colours(k)
    batch.point(idx, x, y, flux_r[:, None] * colours)
    batch.meta["snr"][idx], batch.meta["flux"][idx] = snr, flux_r
    batch.meta["x"][idx], batch.meta["y"][idx] = x, y
    if kind == "Transient":
        return
    host_ratio = {
        "SN Gold": (0.3, 30.0),
        "SN Bronze": (0.3, 30.0),
        "SN Other": (0.05, 10.0),
        "SN Silver": (0.003, 0.05),
    }[kind]
    host = _galaxy(rng, k, flux_r * _logu(rng, *host_ratio, k))
    if kind == "SN Gold":
        dist = np.maximum(rng.uniform(0.6, 2.5, k).astype(F) * host["re"], F(1.5))
    elif kind == "SN Bronze":
        dist = rng.uniform(0.0, 0.3, k).astype(F)
    elif kind == "SN Other":
        dist = rng.uniform(2.5, 5.0, k).astype(F) * host["re"]
    else:
        dist = rng.uniform(0.0, 3.0, k).astype(F) * host["re"]
    phi = rng.uniform(0, 2 * np.pi, k).astype(F)
    hx, hy = x - dist * np.cos(phi), y - dist * np.sin(phi)
    batch.static(
        idx, "galaxy", hx, hy, _scale_galaxy(host, batch.colours(k, (0.3, 0.8), (1.1, 1.6)))
    )
    batch.meta["host_flux"][idx], batch.meta["host_offset"][idx] = host["flux"], dist
    batch.meta["host_re"][idx] = host["re"]


def _moving(batch: _Batch, idx):
    rng, k, c = batch.rng, len(idx), batch.c
    snr = batch.draw_snr(k)
    flux_r = _psf_flux(batch, idx, snr)
    speed = _logu(rng, 0.3, 3.5, k)  # pixels per 100 s
    phi = rng.uniform(0, 2 * np.pi, k).astype(F)
    t = np.array([BAND_TIMES[b] for b in batch.cfg.bands], F) / F(100.0)
    x = c + (speed * np.cos(phi))[:, None] * t[None, :]
    y = c + (speed * np.sin(phi))[:, None] * t[None, :]
    colours = batch.colours(k, (0.6, 1.2), (0.8, 1.3))
    trailed = rng.uniform(size=k) < 0.25
    steps = 5
    for j in range(steps):
        # a trailed asteroid moves during the 54 s exposure: spread its flux along the trail
        frac = np.where(trailed, (j / (steps - 1) - 0.5) * 0.54 * 8, 0.0).astype(F)
        dx = (speed * np.cos(phi) * frac)[:, None]
        dy = (speed * np.sin(phi) * frac)[:, None]
        batch.point(idx, x + dx, y + dy, flux_r[:, None] * colours / steps)
    batch.meta["snr"][idx], batch.meta["flux"][idx] = snr, flux_r
    batch.meta["velocity"][idx] = speed


def _variable(batch: _Batch, idx):
    rng, k, c = batch.rng, len(idx), batch.c
    snr = batch.draw_snr(k)
    # share of fading variables: ~15% of SDSS-II's scanned variables, ~55% of ZTF's alerts
    fading = 0.15 if batch.cfg.layout == "gri" else 0.55
    dflux = _psf_flux(batch, idx, snr) * np.where(rng.uniform(size=k) < fading, -1, 1).astype(F)
    base = np.abs(dflux) / _logu(rng, 0.1, 2.0, k)
    colours = batch.colours(k, (0.4, 1.2), (0.8, 1.5))
    batch.static(idx, "star", c, c, {"flux": base[:, None] * colours})
    batch.point(idx, np.full(k, c), np.full(k, c), dflux[:, None] * colours)
    batch.meta["snr"][idx], batch.meta["flux"][idx] = snr, dflux


def _dipole(batch: _Batch, idx):
    """Misregistration residual of a star or galaxy core: net flux zero."""
    rng, k, c = batch.rng, len(idx), batch.c
    amp = rng.uniform(0.15, 1.0, k).astype(F)
    phi = rng.uniform(0, 2 * np.pi, k).astype(F)
    shift = np.stack([amp * np.cos(phi), amp * np.sin(phi)], axis=1)
    colours = batch.colours(k, (0.4, 1.2), (0.8, 1.5))
    star = rng.uniform(size=k) < 0.6
    core = _galaxy(rng, k, np.ones(k, F), re=(0.8, 2.5))
    core["n"] = rng.uniform(2.0, 4.0, k).astype(F)
    parts = []
    for sel, kind in ((star, "star"), (~star, "galaxy")):
        sub = idx[sel]
        params = {"flux": colours[sel]}
        if kind == "galaxy":
            params = _scale_galaxy({key: v[sel] for key, v in core.items()}, colours[sel])
        # the candidate was detected on the positive lobe, so the stamp is centred there:
        # the source sits about one inflection radius of its profile (plus half the shift)
        # from the centre, along the shift
        alpha = moffat_alpha(batch.fwhm_diff[sub, batch.det], batch.beta[sub])
        lobe = np.sqrt(alpha**2 / (2 * batch.beta[sub] + 1) + (amp[sel] / 2) ** 2)
        unit = shift[sel] / amp[sel, None]
        x, y = c + unit[:, 0] * lobe, c + unit[:, 1] * lobe
        batch.meta["x"][sub], batch.meta["y"][sub] = x, y
        # rendered at unit flux, then scaled to the drawn SNR
        res, var, new, ref = batch.static_exact(sub, kind, x, y, params, shift[sel])
        scale = batch.draw_snr(len(sub)) / np.maximum(batch.unit_snr(sub, res), F(1e-12))
        s4 = scale[:, None, None, None]
        batch.diff[sub] += res * s4
        batch.var[sub] += var * s4
        if new is not None:
            batch.new[sub] += new * s4
            batch.ref[sub] += ref * s4
        parts.append((sub, scale, batch.unit_snr(sub, res) * scale))
    for sub, scale, snr in parts:
        batch.meta["snr"][sub], batch.meta["flux"][sub] = snr, scale
    batch.meta["shift"][idx] = amp


def _saturated(batch: _Batch, idx):
    """A bright star clipped at saturation in both epochs, bleeding along its column."""
    rng, k, c = batch.rng, len(idx), batch.c
    sat = rng.uniform(2.0e4, 4.0e4, k).astype(F)
    # the reference co-add saturates where its epochs did, up to their photometric scaling
    sat_ref = sat * (F(1.0) + rng.normal(0, SATURATED_LEVEL_SCATTER, k)).astype(F)
    over = saturated_brightness(rng, k)  # peak / saturation level
    colours = batch.colours(k, (0.5, 1.1), (0.9, 1.3))
    alpha = moffat_alpha(batch.fwhm_diff[idx], batch.beta[idx][:, None])
    peak_per_flux = (batch.beta[idx][:, None] - 1) / (np.pi * alpha**2)
    flux = (over * sat)[:, None] * colours / peak_per_flux[:, batch.det : batch.det + 1]
    x = c + rng.uniform(-0.5, 0.5, k).astype(F)
    shifted = batch.shift[idx]
    new = _bleed(batch._moffat(idx, x, np.full(k, c), batch.fwhm_diff, flux), sat, x)
    wide = batch.fwhm_diff * (1 + batch.eps)
    flux_ref = flux * (F(1.0) - batch.zp[idx])
    ref = _bleed(
        batch._moffat(idx, x + shifted[:, 0], c + shifted[:, 1], wide, flux_ref), sat_ref, x
    )
    batch.diff[idx] += new - ref
    batch.var[idx] += new
    if batch.new is not None:
        batch.new[idx] += new
        batch.ref[idx] += ref
    batch.meta["snr"][idx] = batch.unit_snr(idx, new - ref)
    batch.meta["flux"][idx] = flux[:, batch.det]
    batch.meta["x"][idx] = x


def snr_law(rng, snr_range, slope, k):
    """SNRs drawn from N(>SNR) ~ SNR**-slope truncated to ``snr_range`` (log-uniform at 0)."""
    lo, hi = snr_range
    if slope == 0 or lo == hi:
        return _logu(rng, lo, hi, k)
    return _power_law(rng, lo, hi, slope, k)


def _power_law(rng, lo, hi, slope, k):
    """Draws from N(>x) ~ x**-slope between ``lo`` and ``hi`` (a truncated Pareto law)."""
    u = rng.uniform(0.0, 1.0 - (lo / hi) ** slope, k)
    return (lo * (1.0 - u) ** (-1.0 / slope)).astype(F)


def saturated_brightness(rng, k):
    """Peak-to-saturation ratios of saturated stars: star counts, N(>flux) ~ flux**-gamma.

    Galactic star counts at high latitude rise by about 0.3 dex per magnitude
    (``gamma = 0.75``), so most saturated stars are only just saturated and very
    bright ones are rare: a Pareto law from ``SATURATED_OVER[0]``, truncated at
    ``SATURATED_OVER[1]`` (median ~2.5x saturation).
    """
    return _power_law(rng, *SATURATED_OVER, SATURATED_GAMMA, k)


def _bleed(img, sat, x):
    """Clip at ``sat`` and move the excess charge up and down the star's column."""
    k, nb, s, _ = img.shape
    level = sat[:, None, None, None]
    excess = np.clip(img - level, 0, None).sum(axis=(2, 3))  # (k, nb)
    out = np.minimum(img, level)
    col = np.clip(np.rint(x).astype(int), 0, s - 1)
    rows = np.arange(s, dtype=F)
    centre = F((s - 1) / 2.0)
    length = excess / (2 * sat[:, None])  # pixels bled on each side
    trail = np.clip(length[:, :, None] - (np.abs(rows - centre)[None, None, :] - 1), 0, 1)
    trail *= sat[:, None, None]
    ix = np.arange(k)
    out[ix, :, :, col] = np.maximum(out[ix, :, :, col], trail)
    return out


def _artefact(batch: _Batch, idx):
    rng, k, c, s, nb = batch.rng, len(idx), batch.c, batch.S, batch.nb
    kinds = rng.choice(len(ARTEFACT_KINDS), size=k, p=ARTEFACT_P)
    model = np.zeros((k, nb, s, s), F)
    band = rng.integers(0, nb, k)  # artefacts of a single exposure sit in one band
    if nb > 1:
        band = np.where(rng.uniform(size=k) < 0.5, batch.det, band)
    for j in range(k):
        b = band[j] if batch.cfg.layout == "gri" else 0
        kind = ARTEFACT_KINDS[kinds[j]]
        # the candidate was detected on the artefact, within a pixel of the centre; kinds
        # that are not point-like (columns, trails, spikes, ghosts) lie anywhere around it
        cx, cy = (c + rng.uniform(-1.0, 1.0, 2)).round().astype(int)
        if kind == "cosmic-ray":  # a few sharp pixels, narrower than the PSF
            xs, ys = [cx], [cy]
            for _ in range(rng.integers(0, 5)):
                xs.append(xs[-1] + rng.integers(-1, 2))
                ys.append(ys[-1] + rng.integers(-1, 2))
            model[j, b, np.clip(ys, 0, s - 1), np.clip(xs, 0, s - 1)] += rng.uniform(
                0.4, 1.0, len(xs)
            )
        elif kind == "hot-pixel":
            model[j, b, cy, cx] = 1.0
            if rng.uniform() < 0.3:
                model[j, b, cy, min(cx + 1, s - 1)] = rng.uniform(0.2, 0.6)
        elif kind == "bad-column":  # any column, any stretch of rows
            col = rng.integers(0, s)
            lo = rng.integers(0, s - 4)
            hi = rng.integers(lo + 4, s + 1)
            model[j, b, lo:hi, col] = rng.uniform(0.7, 1.0)
        elif kind == "diffraction-spike":  # spikes of a bright star off the candidate
            px, py = c + rng.uniform(-15, 15, 2)
            arms = line(
                np.array([px, px]),
                np.array([py, py]),
                np.array([0.0, np.pi / 2]),
                np.array([0.6, 0.6]),
                np.ones(2),
                s,
            )
            yy, xx = np.mgrid[0:s, 0:s]
            decay = np.exp(-np.hypot(xx - px, yy - py) / rng.uniform(6, 20)).astype(F)
            model[j, :] += (arms.sum(axis=0) * decay)[None]
        elif kind == "satellite":  # satellite trail through the candidate, in one band
            width = rng.uniform(0.6, 1.2)
            model[j, b] += line(
                np.array([c + rng.uniform(-8, 8)]),
                np.array([c + rng.uniform(-8, 8)]),
                rng.uniform(0, np.pi, 1),
                np.array([width]),
                np.ones(1),
                s,
            )[0]
        elif kind == "psf-mismatch":
            # a star subtracted with a badly matched PSF: a point-like core and a ring of the
            # opposite sign in every band, zero net flux; it masquerades as a faint transient
            fw = batch.fwhm_diff[idx[j]]
            e = rng.uniform(0.05, 0.15) * (1 if rng.uniform() < 0.7 else -1)
            xs = np.full(nb, c + rng.uniform(-0.5, 0.5), F)
            ys = np.full(nb, c + rng.uniform(-0.5, 0.5), F)
            beta = np.full(nb, batch.beta[idx[j]], F)
            col = batch.colours(1, (0.4, 1.2), (0.8, 1.5))[0]
            model[j] += moffat(xs, ys, fw, beta, col, s) - moffat(
                xs, ys, fw * (1 + e), beta, col, s
            )
        else:  # ghost: an out-of-focus internal reflection, broader than the PSF, every band
            fw = batch.fwhm_diff[idx[j]] * rng.uniform(1.8, 3.5)
            xs = np.full(nb, c + rng.uniform(-4, 4), F)
            ys = np.full(nb, c + rng.uniform(-4, 4), F)
            col = batch.colours(1, (0.7, 1.3), (0.7, 1.3))[0]
            model[j] += moffat(xs, ys, fw, np.full(nb, 4.5, F), col, s)
    snr = _any_band_snr(batch, idx, model)
    scale = batch.draw_snr(k) / np.maximum(snr, F(1e-12))
    model *= scale[:, None, None, None]
    batch.meta["flux"][idx] = model.sum(axis=(1, 2, 3))
    rows = _rows(idx)
    batch.diff[rows] += model
    if batch.new is not None:
        batch.new[rows] += model
    batch.var[rows] += np.abs(model, out=model)  # Poisson variance, whatever the sign
    batch.meta["snr"][idx] = snr * scale  # the SNR is linear in the model's scale
    batch.meta["artefact"][idx] = [ARTEFACT_KINDS[i] for i in kinds]
    batch.meta["x"][idx], batch.meta["y"][idx] = c, c


def _any_band_snr(batch, idx, model):
    """The highest per-band matched-filter SNR of each model (k, nb, S, S)."""
    power = np.einsum("kbij,kbij->kb", model, model, dtype=np.float64)
    return np.sqrt((power / batch.sigma[idx].astype(np.float64) ** 2).max(axis=1)).astype(F)


def _neighbours(batch: _Batch):
    rng, b, c = batch.rng, batch.B, batch.c
    count = rng.integers(0, batch.cfg.max_neighbours + 1, b)
    batch.meta["n_neighbours"] = count
    for j in range(batch.cfg.max_neighbours):
        idx = np.flatnonzero(count > j)
        if not len(idx):
            continue
        k = len(idx)
        r = rng.uniform(8, c * 1.3, k).astype(F)
        phi = rng.uniform(0, 2 * np.pi, k).astype(F)
        x, y = c + r * np.cos(phi), c + r * np.sin(phi)
        flux = _logu(rng, 300, 3e4, k)
        colours = batch.colours(k, (0.4, 1.2), (0.8, 1.5))
        star = rng.uniform(size=k) < 0.5
        batch.static(
            idx[star],
            "star",
            x[star],
            y[star],
            {"flux": flux[star, None] * colours[star]},
            window=NEIGHBOUR_WINDOW,
        )
        gal = _galaxy(rng, int((~star).sum()), flux[~star], re=(1.0, 5.0))
        batch.static(
            idx[~star],
            "galaxy",
            x[~star],
            y[~star],
            _scale_galaxy(gal, colours[~star]),
            window=NEIGHBOUR_WINDOW,
        )


def render_batch(labels: np.ndarray, cfg: StampConfig, rng: np.random.Generator):
    """Images (B, S, S, 3) float32 and a dict of per-stamp truth arrays."""
    given = labels
    labels = shown_classes(labels, cfg, rng)  # what each stamp shows (label noise)
    # work class by class on contiguous rows; restore the caller's order at the end
    order = np.argsort(labels, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    labels = labels[order]
    batch = _Batch(labels, cfg, rng)
    _neighbours(batch)
    for code, name in enumerate(CLASSES):
        idx = np.flatnonzero(labels == code)
        if not len(idx):
            continue
        if name.startswith("SN") or name == "Transient":
            _supernova(batch, idx, name)
        elif name == "Moving":
            _moving(batch, idx)
        elif name == "Variable":
            _variable(batch, idx)
        elif name == "Dipole":
            _dipole(batch, idx)
        elif name == "Saturated Star":
            _saturated(batch, idx)
        else:
            _artefact(batch, idx)
    sigma2 = (batch.sigma**2)[:, :, None, None]
    diff = batch.diff
    c = int(round(float(batch.c)))
    model_centre = diff[:, 0, c - 1 : c + 2, c - 1 : c + 2].mean(axis=(1, 2))  # noise-free
    ref_share = (1 / (1 + batch.n_ref))[:, None, None, None].astype(F)  # reference's noise share
    if cfg.noise and cfg.layout == "gri":
        # only the difference is kept: one draw with the summed variance
        add_noise(rng, diff, batch.var, sigma2)
    elif cfg.noise:
        noise_ref = standard_normal(rng, diff.shape) * np.sqrt(sigma2 * ref_share)
        noise_new = standard_normal(rng, diff.shape) * np.sqrt(sigma2 * (1 - ref_share) + batch.var)
        diff += noise_new - noise_ref
        batch.new += noise_new
        batch.ref += noise_ref
    if cfg.layout == "gri":
        # one band at a time: gather the caller's order and interleave the bands in one pass
        images = np.empty((batch.B, batch.S, batch.S, batch.nb), F)
        for j in range(batch.nb):
            images[..., j] = diff[inverse, j]
    else:
        images = _ztf_triplet(batch, diff, model_centre, rng)[inverse]
    meta = dict(batch.meta)
    meta["shown"] = labels
    for j, band in enumerate(cfg.bands):
        meta[f"fwhm_{band}"] = batch.fwhm_diff[:, j]
        meta[f"fwhm_new_{band}"] = batch.fwhm_new[:, j]
        meta[f"sigma_{band}"] = batch.sigma[:, j]
        meta[f"eps_{band}"] = batch.eps[:, j]
        meta[f"zp_{band}"] = batch.zp[:, j]
    meta["beta"] = batch.beta
    meta["n_ref"] = batch.n_ref
    if cfg.layout == "triplet":
        meta["isdiffpos"] = model_centre >= 0
        meta["sky"] = batch.sky[:, 0]
    meta = {k: np.asarray(v)[inverse] for k, v in meta.items()}
    meta["label"] = given
    return np.ascontiguousarray(images, dtype=F), meta


def _ztf_triplet(batch: _Batch, diff, model_centre, rng) -> np.ndarray:
    """(B, S, S, 3) science, reference, difference in ZTF's conventions.

    Science and reference carry their sky in counts; the difference is flipped where
    the detection is negative, as ZTF's cutouts show it; a share of cutouts lies at a
    CCD edge, the missing side NaN-padded in all three.
    """
    b, s = batch.B, batch.S
    sky = batch.sky[:, 0, None, None]
    sign = np.where(model_centre >= 0, F(1.0), F(-1.0))[:, None, None]
    out = np.empty((b, s, s, 3), F)
    np.add(batch.new[:, 0], sky, out=out[..., 0])
    np.add(batch.ref[:, 0], sky, out=out[..., 1])
    np.multiply(diff[:, 0], sign, out=out[..., 2])
    edge = np.zeros(b, np.int64)
    hit = np.flatnonzero(rng.uniform(size=b) < batch.cfg.edge_fraction)
    for i in hit:
        width = int(rng.integers(3, s // 2 - 5))
        side = int(rng.integers(4))
        rows = slice(None, width) if side % 2 == 0 else slice(s - width, None)  # low / high
        if side < 2:
            out[i, rows, :, :] = np.nan
        else:
            out[i, :, rows, :] = np.nan
        edge[i] = width
    batch.meta["edge_px"] = edge
    return out


def taxonomy(config: StampConfig):
    """The SDSS-II SN taxonomy (original -> visual -> binary)."""
    return SDSS_SN


def meta_frame(meta: dict) -> pd.DataFrame:
    """Truth table: the label (``class``) and what the stamp shows (``true_class``)."""
    frame = pd.DataFrame({k: v for k, v in meta.items() if k not in ("label", "shown")})
    frame.insert(0, "true_class", [CLASSES[i] for i in meta["shown"]])
    frame.insert(0, "class", [CLASSES[i] for i in meta["label"]])
    return frame


def shown_classes(labels: np.ndarray, cfg: StampConfig, rng: np.random.Generator) -> np.ndarray:
    """The class each stamp shows: its label, except for ``label_noise`` of them."""
    shown = np.array(labels, copy=True)
    if cfg.label_noise <= 0:
        return shown
    flip = rng.uniform(size=len(shown)) < cfg.label_noise
    for i in np.flatnonzero(flip):
        options = [c for c in CONFUSABLE[CLASSES[shown[i]]] if cfg.fractions.get(c, 0) > 0]
        if options:
            shown[i] = CLASSES.index(options[rng.integers(len(options))])
    return shown

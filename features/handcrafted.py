"""Feature set ``handcrafted``: measured properties of the source in each stamp.

What du Buisson et al. (2015) measured on SDSS difference images, and the DES
autoScan residual statistics (Goldstein et al. 2015), computed for a whole
batch of stamps at once rather than one stamp at a time:

* background and noise from the stamp's border (median, MAD);
* detection: the image smoothed by a Gaussian (sigma 1 px) above
  ``threshold`` x its noise, segmented with :func:`scipy.ndimage.label` over
  the whole batch (connectivity within a stamp only); the central source is
  the segment nearest the stamp centre within ``search_radius`` pixels;
* shape from adaptive (Gaussian-weighted) second moments, which give the
  best-fitting elliptical Gaussian (Bernstein & Jarvis 2002): centroid offset,
  FWHM, semi-axes, ellipticity, elongation, orientation, amplitude and flux;
* segment area, flux and peak; Gini coefficient, concentration (r<2 / r<8
  aperture flux) and 180-degree asymmetry in the central aperture;
* neighbourhood: number of other segments and distance to the nearest;
* residual statistics: pixels below -2 and -3 sigma in the central 3x3 and
  5x5 boxes (n2sig3, n3sig3, n2sig5, n3sig5), summed absolute residual,
  negative/positive flux ratio (about -1 for dipoles), flat-top (saturated)
  pixel count, column-median excess (bad columns), peak sharpness (cosmic
  rays) and peak-to-flux ratio;
* across bands: asinh-magnitude colours and centroid shifts (moving objects);
  for science/reference/difference triplets, the distance to and brightness
  of the host in the reference instead.

A stamp without a detection gets a ``no_detection`` indicator of 1 and
defined values; no feature is ever NaN or infinite.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.base import BaseEstimator, TransformerMixin

from benchmark.errors import ConfigError

from ._base import batches, check_images, finite

__all__ = ["HandcraftedFeatures", "PER_CHANNEL"]

F = np.float32
FWHM_PER_SIGMA = 2.354820045

#: Per-channel feature names, in order.
PER_CHANNEL = (
    "bkg",
    "sigma",
    "no_detection",
    "dx",
    "dy",
    "offset",
    "fwhm",
    "a",
    "b",
    "ellipticity",
    "elongation",
    "theta",
    "gauss_amp",
    "gauss_flux",
    "area",
    "seg_flux",
    "peak",
    "gini",
    "concentration",
    "asymmetry",
    "n_other",
    "nearest_dist",
    "n2sig3",
    "n3sig3",
    "n2sig5",
    "n3sig5",
    "sum_abs",
    "flux_ratio",
    "n_flat",
    "col_excess",
    "sharpness",
    "peak_to_flux",
    "ap_flux2",
    "ap_flux4",
    "ap_flux8",
)
TRIPLET = ("science", "reference", "difference")


class _Geometry:
    """Coordinates and aperture masks for one stamp size (computed once)."""

    def __init__(self, size: int, half: int):
        self.size = size
        self.c = (size - 1) / 2.0
        y, x = np.mgrid[0:size, 0:size].astype(F)
        self.d2 = (x - self.c) ** 2 + (y - self.c) ** 2
        r = np.sqrt(self.d2)
        self.ap = {k: np.flatnonzero((r <= k).ravel()) for k in (2, 4, 6, 8)}
        border = np.ones((size, size), bool)
        w = max(4, size // 8)
        border[w:-w, w:-w] = False
        self.border = np.flatnonzero(border.ravel())
        ic = int(round(self.c))
        self.box3 = np.s_[:, ic - 1 : ic + 2, ic - 1 : ic + 2]
        self.box5 = np.s_[:, ic - 2 : ic + 3, ic - 2 : ic + 3]
        self.box7 = (ic - 3, ic + 4)
        lo = max(int(round(self.c)) - half, 0)
        self.win = np.s_[lo : lo + 2 * half + 1]
        self.win_axis = np.arange(lo, min(lo + 2 * half + 1, size), dtype=F)


def _channel_features(img: np.ndarray, g: _Geometry, threshold: float, search: float):
    """Per-channel features for a batch (B, S, S); returns dict name -> (B,) and centroids."""
    b, s, _ = img.shape
    bkg, sigma = _background(img, g)
    sub = img - bkg[:, None, None]
    out = {"bkg": bkg, "sigma": sigma}

    # detection and segmentation of the whole batch at once
    labels, n_labels = _segment(sub, sigma, threshold)
    lab = labels.reshape(b, -1)
    dist2 = np.where(lab > 0, g.d2.ravel()[None, :], np.inf)
    nearest = np.argmin(dist2, axis=1)
    found = dist2[np.arange(b), nearest] <= search**2
    central = np.where(found, lab[np.arange(b), nearest], 0)
    seg = labels == central[:, None, None]
    seg &= found[:, None, None]
    out["no_detection"] = (~found).astype(F)
    out["area"] = seg.sum(axis=(1, 2)).astype(F)
    out["seg_flux"] = np.where(seg, sub, 0).sum(axis=(1, 2)).astype(F)
    out["peak"] = np.where(found, np.where(seg, sub, -np.inf).max(axis=(1, 2)), 0).astype(F)

    # neighbourhood: labels of one stamp form a contiguous range (raster-order labelling)
    lab_max = lab.max(axis=1)
    lab_min = np.where(lab > 0, lab, np.iinfo(lab.dtype).max).min(axis=1)
    n_seg = np.where(lab_max > 0, lab_max - lab_min + 1, 0)
    out["n_other"] = (n_seg - found).astype(F)
    nearest_dist = np.full(b, float(s), F)
    if n_labels:
        stamp, cy, cx, _ = _segment_stats(labels, n_labels)
        ids = np.arange(1, n_labels + 1)
        d = np.hypot(cy - g.c, cx - g.c)  # from the candidate position
        d[ids == central[stamp]] = np.inf
        best = np.full(b, np.inf)
        np.minimum.at(best, stamp, d)
        nearest_dist = np.where(np.isfinite(best), best, float(s)).astype(F)
    out["nearest_dist"] = nearest_dist

    # adaptive moments (best-fit Gaussian) in a window around the centre
    win = np.maximum(sub[:, g.win, g.win], 0)
    ax = g.win_axis
    xc = np.full(b, g.c, F)
    yc = np.full(b, g.c, F)
    sw2 = np.full(b, F(4.0))
    for _ in range(6):
        wx = np.exp(-((ax[None, :] - xc[:, None]) ** 2) / (2 * sw2[:, None]))
        wy = np.exp(-((ax[None, :] - yc[:, None]) ** 2) / (2 * sw2[:, None]))
        weighted = win * wy[:, :, None] * wx[:, None, :]
        cols = weighted.sum(axis=1)  # (B, W): sum over y
        rows = weighted.sum(axis=2)  # (B, W): sum over x
        flux_w = cols.sum(axis=1)
        ok = flux_w > 0
        safe = np.where(ok, flux_w, 1)
        xn = (cols * ax).sum(axis=1) / safe
        yn = (rows * ax).sum(axis=1) / safe
        mxx = (cols * (ax[None, :] - xn[:, None]) ** 2).sum(axis=1) / safe
        myy = (rows * (ax[None, :] - yn[:, None]) ** 2).sum(axis=1) / safe
        xc = np.where(ok, np.clip(xn, ax[0], ax[-1]), xc).astype(F)
        yc = np.where(ok, np.clip(yn, ax[0], ax[-1]), yc).astype(F)
        sw2 = np.where(ok, np.clip(mxx + myy, 0.25, 100.0), sw2).astype(F)
    dxw = ax[None, None, :] - xc[:, None, None]
    dyw = ax[None, :, None] - yc[:, None, None]
    mxy = (weighted * dxw * dyw).sum(axis=(1, 2)) / safe
    mxx, myy = mxx.astype(F), myy.astype(F)
    half_tr = (mxx + myy) / 2
    root = np.sqrt(((mxx - myy) / 2) ** 2 + mxy**2)
    lam1, lam2 = half_tr + root, np.maximum(half_tr - root, 0)
    sig = np.sqrt(np.maximum(mxx + myy, 0))
    out["dx"], out["dy"] = xc - g.c, yc - g.c
    out["offset"] = np.hypot(out["dx"], out["dy"])
    out["fwhm"] = np.where(ok, FWHM_PER_SIGMA * sig, 0)
    out["a"] = np.where(ok, np.sqrt(2 * lam1), 0)
    out["b"] = np.where(ok, np.sqrt(2 * lam2), 0)
    out["ellipticity"] = np.where(ok & (lam1 > 0), 1 - np.sqrt(lam2 / np.maximum(lam1, 1e-12)), 0)
    out["elongation"] = np.where(ok & (lam2 > 0), np.sqrt(lam1 / np.maximum(lam2, 1e-12)), 1)
    out["theta"] = 0.5 * np.arctan2(2 * mxy, mxx - myy)
    out["gauss_amp"] = np.where(ok, flux_w / (np.pi * np.maximum(sig**2, 1e-6)), 0)
    out["gauss_flux"] = np.where(ok, 2 * flux_w, 0)

    # aperture statistics
    flat_sub = sub.reshape(b, -1)
    aps = {k: flat_sub[:, idx] for k, idx in g.ap.items()}
    for k in (2, 4, 8):
        out[f"ap_flux{k}"] = aps[k].sum(axis=1)
    noise8 = sigma * np.sqrt(len(g.ap[8]))
    out["concentration"] = out["ap_flux2"] / np.maximum(np.abs(out["ap_flux8"]), noise8)
    rot = sub[:, ::-1, ::-1].reshape(b, -1)[:, g.ap[8]]
    abs8 = np.abs(aps[8])
    out["asymmetry"] = np.abs(aps[8] - rot).sum(axis=1) / np.maximum(2 * abs8.sum(axis=1), noise8)
    srt = np.sort(abs8, axis=1)
    n8 = srt.shape[1]
    weights = (2 * np.arange(1, n8 + 1) - n8 - 1).astype(F)
    out["gini"] = (srt * weights).sum(axis=1) / np.maximum((n8 - 1) * srt.sum(axis=1), 1e-12)
    a6 = aps[6]
    pos = np.clip(a6, 0, None).sum(axis=1)
    neg = np.clip(a6, None, 0).sum(axis=1)
    out["flux_ratio"] = np.clip(neg / np.maximum(pos, sigma), -10, 0)
    out["sum_abs"] = np.abs(a6).sum(axis=1) / (sigma * np.sqrt(len(g.ap[6])))
    for n_sig in (2, 3):
        low = sub < -n_sig * sigma[:, None, None]
        out[f"n{n_sig}sig3"] = low[g.box3].sum(axis=(1, 2)).astype(F)
        out[f"n{n_sig}sig5"] = low[g.box5].sum(axis=(1, 2)).astype(F)
    absmax = np.abs(flat_sub).max(axis=1)
    out["n_flat"] = np.where(
        absmax > 20 * sigma, (np.abs(flat_sub) >= 0.98 * absmax[:, None]).sum(axis=1), 0
    ).astype(F)
    # a bad column lifts the median of its column; every other row is enough to see it
    out["col_excess"] = np.abs(np.median(sub[:, ::2], axis=1)).max(axis=1) / sigma
    lo, hi = g.box7
    box = sub[:, lo:hi, lo:hi]
    pk = box.reshape(b, -1).argmax(axis=1)
    py, px = np.unravel_index(pk, box.shape[1:])
    padded = np.pad(box, ((0, 0), (1, 1), (1, 1)), mode="edge")
    around = np.stack(
        [
            padded[np.arange(b), py + 1 + dy, px + 1 + dx]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if dy or dx
        ],
        axis=1,
    )
    peak_val = box.reshape(b, -1).max(axis=1)
    out["sharpness"] = np.where(
        peak_val > 0, (peak_val - around.mean(axis=1)) / np.maximum(peak_val, 1e-12), 0
    )
    out["peak_to_flux"] = peak_val / np.maximum(np.abs(out["ap_flux4"]), sigma)
    return out, (xc, yc)


def _background(img, g):
    """Median and IQR-based sigma of each stamp's border, from one partition."""
    edge = img.reshape(len(img), -1)[:, g.border]
    n = edge.shape[1]
    q = [n // 4, n // 2, (3 * n) // 4]
    part = np.partition(edge, q, axis=1)
    bkg = part[:, q[1]].astype(F)
    sigma = ((part[:, q[2]] - part[:, q[0]]) / 1.349).astype(F)
    return bkg, np.where(sigma > 0, sigma, F(1e-6))


_STRUCTURE = np.zeros((3, 3, 3), bool)
_STRUCTURE[1] = ndimage.generate_binary_structure(2, 1)  # connect within a stamp only


def _segment(sub, sigma, threshold, min_area=5):
    """Label connected pixels of the smoothed image above ``threshold`` x its noise.

    Segments smaller than ``min_area`` pixels (noise spikes) are dropped; the
    remaining labels are renumbered in raster order, so one stamp's labels
    form a contiguous range.
    """
    smooth = ndimage.gaussian_filter(sub, sigma=(0, 1.0, 1.0), mode="nearest", truncate=2.0)
    mask = smooth > (threshold * 0.2821 * sigma)[:, None, None]  # smoothed noise = 0.282 sigma
    labels, n = ndimage.label(mask, structure=_STRUCTURE)
    if n:
        area = np.bincount(labels.ravel(), minlength=n + 1)
        keep = area >= min_area
        keep[0] = False
        if not keep[1:].all():
            new_id = np.zeros(n + 1, labels.dtype)
            new_id[keep] = np.arange(1, int(keep.sum()) + 1)
            labels = new_id[labels]
            n = int(keep.sum())
    return labels, n


def _segment_stats(labels, n_labels, weights=None):
    """Stamp index, centroid (y, x) and weighted sum of every segment (bincount over its pixels)."""
    flat = labels.ravel()
    pix = np.flatnonzero(flat)
    lab = flat[pix]
    b, s, _ = labels.shape
    stamp_of, rest = np.divmod(pix, s * s)
    y, x = np.divmod(rest, s)
    count = np.bincount(lab, minlength=n_labels + 1)[1:]
    count = np.maximum(count, 1)
    cy = np.bincount(lab, weights=y, minlength=n_labels + 1)[1:] / count
    cx = np.bincount(lab, weights=x, minlength=n_labels + 1)[1:] / count
    stamp = np.zeros(n_labels, int)
    stamp[lab - 1] = stamp_of
    total = None
    if weights is not None:
        total = np.bincount(lab, weights=weights.ravel()[pix], minlength=n_labels + 1)[1:]
    return stamp, cy, cx, total


class HandcraftedFeatures(TransformerMixin, BaseEstimator):
    """Measured stamp features (see the module docstring); nothing is fitted.

    Parameters
    ----------
    channel_names : sequence of str, optional
        Names of the channels; ``("science", "reference", "difference")``
        switches to triplet mode (host features instead of colours).
    threshold : float
        Detection threshold in units of the smoothed image's noise.
    search_radius : float
        The central source must lie within this many pixels of the centre.
    window : int
        Half-size of the window for the adaptive moments (pixels).
    batch_size : int
    n_jobs : int
        Parallel workers over batches (results do not depend on it).
    progress : bool
    """

    #: ``fit`` only records shapes and names: nothing is learnt from the training images.
    learns_from_data = False

    def __init__(
        self,
        channel_names=None,
        threshold: float = 3.0,
        search_radius: float = 6.0,
        window: int = 15,
        batch_size: int = 256,
        n_jobs: int = 1,
        progress: bool = False,
    ):
        self.channel_names = channel_names
        self.threshold = threshold
        self.search_radius = search_radius
        self.window = window
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.progress = progress

    def validate(self, image_shape, n_samples: int) -> None:
        """Check the parameters for images of ``image_shape`` (H, W, C), before fitting."""
        h, w, c = image_shape
        where = "feature set 'handcrafted'"
        if h != w:
            msg = f"{where} needs square stamps, got {h}x{w}; crop them (e.g. -p crop={min(h, w)})"
            raise ConfigError(msg)
        if self.channel_names is not None and len(self.channel_names) != c:
            msg = f"{where}: channel_names has {len(self.channel_names)} names for {c} channels"
            raise ConfigError(msg)
        for key in ("threshold", "search_radius", "window", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                msg = f"{where}: {key} must be a positive number, got {value!r}"
                raise ConfigError(msg)

    def fit(self, X, y=None):
        _, h, w, c = check_images(X)
        self.validate((h, w, c), len(X))
        names = tuple(self.channel_names or [str(i) for i in range(c)])
        self.image_shape_ = (h, w, c)
        self.channels_ = names
        self.triplet_ = names == TRIPLET
        self.feature_names_ = self._names()
        return self

    def _names(self):
        names = [f"{f}_{ch}" for ch in self.channels_ for f in PER_CHANNEL]
        if self.triplet_:
            names += ["host_dist", "host_flux", "ref_centre_flux", "sci_diff_shift"]
        elif len(self.channels_) > 1:
            pairs = list(zip(self.channels_[:-1], self.channels_[1:]))
            if len(self.channels_) > 2:
                pairs.append((self.channels_[0], self.channels_[-1]))
            names += [f"colour_{a}_{b}" for a, b in pairs]
            names += [f"shift_{a}_{b}" for a, b in pairs]
            names += ["shift_max"]
        return names

    def get_feature_names_out(self, input_features=None):
        return np.array(self.feature_names_)

    def _batch(self, batch: np.ndarray) -> np.ndarray:
        g = _Geometry(batch.shape[1], int(self.window))
        per, cents = [], []
        for k in range(batch.shape[3]):
            feats, cent = _channel_features(
                batch[..., k], g, float(self.threshold), float(self.search_radius)
            )
            per.append(np.stack([feats[f] for f in PER_CHANNEL], axis=1))
            cents.append(cent)
        cols = [np.concatenate(per, axis=1)]
        if self.triplet_:
            cols.append(_host_features(batch, g, cents, float(self.threshold)))
        elif len(self.channels_) > 1:
            cols.append(_cross_band(per, cents, g))
        return finite(np.concatenate(cols, axis=1))

    def transform(self, X):
        from joblib import Parallel, delayed
        from tqdm.auto import tqdm

        check_images(X, fitted_shape=self.image_shape_)
        n = len(X)
        out = np.empty((n, len(self.feature_names_)), np.float32)
        chunks = batches(X, int(self.batch_size))
        bar = tqdm(
            total=n,
            desc="handcrafted features",
            unit="stamp",
            disable=None if self.progress else True,
        )
        if int(self.n_jobs) == 1:
            for start, batch in chunks:
                out[start : start + len(batch)] = self._batch(batch)
                bar.update(len(batch))
        else:
            starts = []
            jobs = []
            for start, batch in chunks:
                starts.append(start)
                jobs.append(delayed(self._batch)(batch))
            # threads: numpy and scipy.ndimage release the GIL on whole-batch operations,
            # and no stamps have to be copied to other processes
            runner = Parallel(n_jobs=self.n_jobs, prefer="threads", return_as="generator")
            for start, res in zip(starts, runner(jobs)):
                out[start : start + len(res)] = res
                bar.update(len(res))
        bar.close()
        return out


def _index(name):
    return PER_CHANNEL.index(name)


def _cross_band(per, cents, g):
    """Asinh-magnitude colours and centroid shifts between channels."""
    k = len(per)
    flux = [p[:, _index("ap_flux4")] for p in per]
    sigma = [p[:, _index("sigma")] for p in per]
    soft = [s * np.sqrt(len(g.ap[4])) for s in sigma]
    mags = [-1.0857 * np.arcsinh(f / (2 * b)) for f, b in zip(flux, soft)]
    pairs = [(i, i + 1) for i in range(k - 1)] + ([(0, k - 1)] if k > 2 else [])
    colours = [mags[i] - mags[j] for i, j in pairs]
    shifts = [np.hypot(cents[i][0] - cents[j][0], cents[i][1] - cents[j][1]) for i, j in pairs]
    return np.stack([*colours, *shifts, np.max(shifts, axis=0)], axis=1)


def _host_features(batch, g, cents, threshold):
    """Distance to and flux of the reference image's source nearest the transient."""
    b, s = batch.shape[0], batch.shape[1]
    ref = batch[..., 1]
    bkg, sigma = _background(ref, g)
    sub = ref - bkg[:, None, None]
    labels, n = _segment(sub, sigma, threshold)
    x_t, y_t = cents[2]  # the transient's centroid in the difference image
    host_dist = np.full(b, float(s))
    host_flux = np.zeros(b)
    if n:
        stamp, cy, cx, flux = _segment_stats(labels, n, weights=sub)
        d = np.hypot(cy - y_t[stamp], cx - x_t[stamp])
        order = np.lexsort((d, stamp))
        first = order[np.r_[True, stamp[order][1:] != stamp[order][:-1]]]
        host_dist[stamp[first]] = d[first]
        host_flux[stamp[first]] = flux[first]
    ref_centre = sub.reshape(b, -1)[:, g.ap[2]].sum(axis=1)
    sci_diff = np.hypot(cents[0][0] - x_t, cents[0][1] - y_t)
    return np.stack([host_dist, host_flux, ref_centre, sci_diff], axis=1)

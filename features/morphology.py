"""Feature set ``morphology``: the non-parametric diagnostics galaxy astronomers use.

Measured by statmorph (Rodriguez-Gomez et al. 2019, the code behind the IllustrisTNG and
many survey morphology catalogues), not re-implemented here:

* Gini and M20 (Lotz et al. 2004) and the Gini-M20 bulge and merger statistics;
* concentration, asymmetry and smoothness (CAS; Conselice 2003), outer and shape
  asymmetry;
* multimode, intensity and deviation (MID; Freeman et al. 2013);
* a single Sersic fit: index, half-light radius and ellipticity;
* sizes (Petrosian radius, r20, r80, half-light radius), ellipticity and elongation,
  and the signal-to-noise per pixel;
* statmorph's quality flags, and ``no_detection`` where no central source is found.

The source is found on one detection image per stamp, so any number of bands works (one
radio or infrared band as well as three optical ones): the mean of the channels, or the
channel named by ``band``.  Its background is the sigma-clipped median and standard
deviation of the stamp; the segmentation is photutils' ``detect_sources`` on the image
smoothed by a Gaussian of ``smooth`` pixels, at ``threshold`` times the smoothed noise;
the galaxy is the segment under the stamp's centre, or else the nearest one within a
quarter of the stamp.  statmorph weighs pixels by that background noise (units-free,
so JPEG values in [0, 1] and FITS counts alike).

statmorph is slow (a few stamps per second per core, most of it in the asymmetry-centre
search and the Sersic fit): ``n_jobs`` runs stamps in parallel processes, and the matrices
are cached like every feature set's.  A measurement statmorph cannot make is 0 with its
flag set; no feature is ever NaN or infinite.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from benchmark.errors import ConfigError

from ._base import batches, check_images, finite

__all__ = ["MEASURES", "MorphologyFeatures"]

#: statmorph attributes kept as features, in order.
MEASURES = (
    "gini",
    "m20",
    "gini_m20_bulge",
    "gini_m20_merger",
    "concentration",
    "asymmetry",
    "smoothness",
    "outer_asymmetry",
    "shape_asymmetry",
    "multimode",
    "intensity",
    "deviation",
    "sersic_n",
    "sersic_rhalf",
    "sersic_ellip",
    "rpetro_circ",
    "r20",
    "r80",
    "rhalf_circ",
    "ellipticity_asymmetry",
    "elongation_asymmetry",
    "sn_per_pixel",
    "flag",
    "flag_sersic",
)
#: Feature names: the measures and the detection indicator.
NAMES = (*MEASURES, "no_detection")
#: statmorph's value for a measurement it could not make.
_FAILED = -99.0


def _require_statmorph():
    try:
        import statmorph
    except ImportError:
        msg = (
            "feature set 'morphology' needs statmorph: pip install 'astrobench[morphology]' "
            "(or pip install statmorph)"
        )
        raise ConfigError(msg) from None
    return statmorph


def _segmap(image: np.ndarray, threshold: float, smooth: float, min_area: int):
    """Background-subtracted image, its noise, the segmentation and the galaxy's label."""
    from astropy.stats import sigma_clipped_stats
    from photutils.segmentation import detect_sources
    from scipy import ndimage

    _, median, std = sigma_clipped_stats(image, sigma=3.0, maxiters=5)
    image = image - median
    if not np.isfinite(std) or std <= 0:
        return image, std, None, 0
    smoothed = ndimage.gaussian_filter(image, smooth) if smooth > 0 else image
    # a Gaussian of s pixels cuts white noise to 1 / (2 sqrt(pi) s) of its sigma
    noise = std / (2 * np.sqrt(np.pi) * smooth) if smooth > 0 else std
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no sources found" is an answer here
        seg = detect_sources(smoothed, threshold * noise, n_pixels=int(min_area))
    if seg is None:
        return image, std, None, 0
    h, w = image.shape
    cy, cx = (h - 1) // 2, (w - 1) // 2
    label = int(seg.data[cy, cx])
    if label == 0:  # the nearest segment within a quarter of the stamp
        ys, xs = np.nonzero(seg.data)
        d2 = (ys - cy) ** 2 + (xs - cx) ** 2
        k = int(np.argmin(d2))
        if d2[k] <= (min(h, w) / 4) ** 2:
            label = int(seg.data[ys[k], xs[k]])
    return image, std, seg.data.astype(np.int32), label


def _measure(image: np.ndarray, params: dict) -> np.ndarray:
    """The feature vector of one detection image (H, W)."""
    statmorph = _require_statmorph()
    out = np.zeros(len(NAMES), np.float64)
    image, std, segmap, label = _segmap(
        image.astype(np.float64), params["threshold"], params["smooth"], params["min_area"]
    )
    if label == 0:
        out[-1] = 1.0
        return out
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # statmorph warns about every imperfect fit
        try:
            morph = statmorph.SourceMorphology(
                image,
                segmap,
                label,
                weightmap=np.full_like(image, std),
                min_cutout_size=min(48, min(image.shape)),
                skybox_size=params["skybox_size"],
                sersic_maxiter=params["sersic_maxiter"],
            )
            values = [float(getattr(morph, m)) for m in MEASURES]
        except Exception:  # noqa: BLE001 - statmorph gives up on some sources: flag them
            out[MEASURES.index("flag")] = 4.0
            return out
    out[: len(MEASURES)] = values
    out[: len(MEASURES)][out[: len(MEASURES)] == _FAILED] = np.nan
    return out


def _measure_batch(images: np.ndarray, params: dict) -> np.ndarray:
    return (
        np.stack([_measure(img, params) for img in images])
        if len(images)
        else np.empty((0, len(NAMES)))
    )


class MorphologyFeatures(TransformerMixin, BaseEstimator):
    """Non-parametric galaxy morphology measured by statmorph (see the module docstring);
    nothing is fitted.

    Parameters
    ----------
    channel_names : sequence of str, optional
        Names of the channels (set from the data set).
    band : str or int, optional
        The channel to measure (a name or an index); default: the mean of all channels.
    threshold : float
        Detection threshold in units of the smoothed image's noise (2 with ``min_area``
        20 finds nothing in pure noise; 1.5 with 10 finds a segment in most noise stamps).
    smooth : float
        Gaussian smoothing of the detection image (pixels; 0: none).
    min_area : int
        Smallest segment kept (pixels).
    skybox_size : int
        Side of statmorph's sky box (pixels); at most a quarter of a small stamp's side.
    sersic_maxiter : int, optional
        Iterations of statmorph's Sersic fit (default: statmorph's).
    batch_size : int
        Stamps per parallel task.
    n_jobs : int
        Parallel processes (results do not depend on it).
    progress : bool
    """

    #: ``fit`` only records shapes and names: nothing is learnt from the training images.
    learns_from_data = False

    def __init__(
        self,
        channel_names=None,
        band=None,
        threshold: float = 2.0,
        smooth: float = 1.0,
        min_area: int = 20,
        skybox_size: int = 16,
        sersic_maxiter: int | None = None,
        batch_size: int = 32,
        n_jobs: int = 1,
        progress: bool = False,
    ):
        self.channel_names = channel_names
        self.band = band
        self.threshold = threshold
        self.smooth = smooth
        self.min_area = min_area
        self.skybox_size = skybox_size
        self.sersic_maxiter = sersic_maxiter
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.progress = progress

    def _band_index(self, c: int):
        where = "feature set 'morphology'"
        if self.band is None:
            return None
        names = [str(n) for n in (self.channel_names or range(c))]
        if isinstance(self.band, int) and not isinstance(self.band, bool):
            if not 0 <= self.band < c:
                msg = f"{where}: band {self.band} is not a channel index (0 to {c - 1})"
                raise ConfigError(msg)
            return self.band
        if str(self.band) not in names:
            msg = f"{where}: no channel {self.band!r}; channels are {', '.join(names)}"
            raise ConfigError(msg)
        return names.index(str(self.band))

    def validate(self, image_shape, n_samples: int) -> None:
        """Check the parameters for images of ``image_shape`` (H, W, C), before fitting."""
        h, w, c = image_shape
        where = "feature set 'morphology'"
        _require_statmorph()
        if min(h, w) < 16:
            msg = f"{where} needs stamps of at least 16x16 pixels, got {h}x{w}"
            raise ConfigError(msg)
        if self.channel_names is not None and len(self.channel_names) != c:
            msg = f"{where}: channel_names has {len(self.channel_names)} names for {c} channels"
            raise ConfigError(msg)
        self._band_index(c)
        for key in ("threshold", "min_area", "skybox_size", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                msg = f"{where}: {key} must be a positive number, got {value!r}"
                raise ConfigError(msg)
        if isinstance(self.smooth, bool) or not isinstance(self.smooth, int | float):
            msg = f"{where}: smooth must be a number of pixels, got {self.smooth!r}"
            raise ConfigError(msg)
        if self.smooth < 0:
            msg = f"{where}: smooth must be 0 or more pixels, got {self.smooth!r}"
            raise ConfigError(msg)

    def fit(self, X, y=None):
        _, h, w, c = check_images(X)
        self.validate((h, w, c), len(X))
        self.image_shape_ = (h, w, c)
        self.band_ = self._band_index(c)
        return self

    def get_feature_names_out(self, input_features=None):
        return np.array(NAMES)

    def _params(self) -> dict:
        return {
            "threshold": float(self.threshold),
            "smooth": float(self.smooth),
            "min_area": int(self.min_area),
            "skybox_size": int(min(self.skybox_size, min(self.image_shape_[:2]) // 4)),
            "sersic_maxiter": self.sersic_maxiter,
        }

    def _detection(self, batch: np.ndarray) -> np.ndarray:
        if self.band_ is None:
            return batch.mean(axis=3)
        return batch[..., self.band_]

    def transform(self, X):
        from joblib import Parallel, delayed
        from tqdm.auto import tqdm

        check_images(X, fitted_shape=self.image_shape_)
        n, params = len(X), self._params()
        out = np.empty((n, len(NAMES)), np.float32)
        chunks = ((s, self._detection(b)) for s, b in batches(X, int(self.batch_size)))
        bar = tqdm(
            total=n,
            desc="morphology (statmorph)",
            unit="stamp",
            disable=None if self.progress else True,
        )
        if int(self.n_jobs) == 1:
            results = ((s, _measure_batch(b, params)) for s, b in chunks)
        else:
            starts, jobs = [], []
            for s, b in chunks:
                starts.append(s)
                jobs.append(delayed(_measure_batch)(b, params))
            # processes: statmorph's fits are Python code that holds the GIL
            runner = Parallel(n_jobs=int(self.n_jobs), return_as="generator")
            results = zip(starts, runner(jobs))
        for start, res in results:
            out[start : start + len(res)] = finite(res)
            bar.update(len(res))
        bar.close()
        return out

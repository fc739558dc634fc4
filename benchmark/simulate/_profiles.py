"""Surface-brightness profiles rendered for a batch of stamps at once (float32).

Every function takes per-stamp parameter arrays of shape (B,) and returns
images of shape (B, size, size).  Pixel (0, 0) is the lower-left pixel; the
stamp centre is ``(size - 1) / 2``.  Profiles are sampled at pixel centres.
"""

from __future__ import annotations

import numpy as np

F = np.float32


def axis(size: int) -> np.ndarray:
    """Pixel-centre coordinates 0..size-1 as float32."""
    return np.arange(size, dtype=F)


def moffat_alpha(fwhm, beta):
    """Moffat core width alpha from the FWHM and beta."""
    return (
        np.asarray(fwhm, F)
        / F(2.0)
        / np.sqrt(np.power(F(2.0), F(1.0) / np.asarray(beta, F)) - F(1.0))
    )


def moffat_norm(alpha, beta):
    """Peak value of a unit-flux Moffat: (beta - 1) / (pi alpha^2)."""
    return (np.asarray(beta, F) - F(1.0)) / (F(np.pi) * np.asarray(alpha, F) ** 2)


def moffat_encircled(radius, fwhm, beta):
    """Fraction of a Moffat's flux inside ``radius`` (analytic)."""
    alpha = moffat_alpha(fwhm, beta)
    return 1.0 - (1.0 + (np.asarray(radius) / alpha) ** 2) ** (1.0 - np.asarray(beta))


def moffat(x0, y0, fwhm, beta, flux, size: int) -> np.ndarray:
    """Moffat point sources of total (infinite-plane) ``flux`` at (x0, y0)."""
    a = axis(size)
    alpha = moffat_alpha(fwhm, beta)
    inv = (F(1.0) / alpha**2)[:, None]
    dx2 = (a[None, :] - np.asarray(x0, F)[:, None]) ** 2 * inv
    dy2 = (a[None, :] - np.asarray(y0, F)[:, None]) ** 2 * inv
    u = dy2[:, :, None] + dx2[:, None, :]
    u += F(1.0)
    np.log(u, out=u)  # log(1 + u): numpy's float32 log is vectorised, log1p is not
    u *= -np.asarray(beta, F)[:, None, None]
    np.exp(u, out=u)
    u *= (np.asarray(flux, F) * moffat_norm(alpha, beta))[:, None, None]
    return u


def sersic_b(n):
    """b_n of the Sersic profile (Ciotti & Bertin 1999 expansion)."""
    n = np.asarray(n, F)
    return F(2.0) * n - F(1.0 / 3.0) + F(4.0 / 405.0) / n + F(46.0 / 25515.0) / n**2


def elliptical_r2(x0, y0, q, theta, size: int, boxiness=None, scale=None, add=None):
    """Squared elliptical radius (major-axis units); generalised ellipse if ``boxiness`` given.

    ``scale`` multiplies and ``add`` is added to the result (folded into the
    quadratic form, so they cost no extra pass over the pixels).
    """
    a = axis(size)
    dx = (a[None, :] - np.asarray(x0, F)[:, None])[:, None, :]
    dy = (a[None, :] - np.asarray(y0, F)[:, None])[:, :, None]
    c = np.cos(np.asarray(theta, F))[:, None, None]
    s = np.sin(np.asarray(theta, F))[:, None, None]
    inv_q2 = (F(1.0) / np.asarray(q, F) ** 2)[:, None, None]
    k = F(1.0) if scale is None else np.asarray(scale, F)[:, None, None]
    if boxiness is None:
        # xr^2 + yr^2/q^2 = A dx^2 + B dx dy + C dy^2
        A = (c * c + s * s * inv_q2) * k
        B = F(2.0) * c * s * (F(1.0) - inv_q2) * k
        C = (s * s + c * c * inv_q2) * k
        r2 = A * (dx * dx) + C * (dy * dy)
        if add is not None:
            r2 += np.asarray(add, F)[:, None, None]
        r2 += B * dx * dy
        return r2
    xr = dx * c + dy * s
    yr = (dy * c - dx * s) * np.sqrt(inv_q2)
    p = np.asarray(boxiness, F)[:, None, None]
    r = (np.abs(xr) ** p + np.abs(yr) ** p) ** (F(1.0) / p)
    r2 = r * r * k
    if add is not None:
        r2 += np.asarray(add, F)[:, None, None]
    return r2


def sersic(x0, y0, re, n, q, theta, flux, soften, size: int, boxiness=None) -> np.ndarray:
    """Sersic profiles normalised to ``flux`` inside the stamp.

    ``soften`` (pixels) is added in quadrature to the radius: a cheap stand-in
    for the PSF's smoothing of the core.
    """
    inv_re2 = F(1.0) / np.asarray(re, F) ** 2
    r2 = elliptical_r2(
        x0, y0, q, theta, size, boxiness, scale=inv_re2, add=np.asarray(soften, F) ** 2 * inv_re2
    )
    n = np.asarray(n, F)
    # exp(-b ((r/re)^(1/n) - 1)) with (r/re)^(1/n) = exp(log(r2 / re^2) / (2 n)); the
    # constant factor exp(b) cancels in the normalisation
    np.log(r2, out=r2)
    r2 *= (F(0.5) / n)[:, None, None]
    np.exp(r2, out=r2)
    r2 *= -sersic_b(n)[:, None, None]
    np.exp(r2, out=r2)
    total = r2.sum(axis=(1, 2), dtype=np.float64).astype(F)
    r2 *= (np.asarray(flux, F) / np.where(total > 0, total, F(1.0)))[:, None, None]
    return r2


def line(x0, y0, angle, width, amplitude, size: int, half_length=None) -> np.ndarray:
    """Straight lines (Gaussian cross-section) through (x0, y0) at ``angle``."""
    a = axis(size)
    dx = (a[None, :] - np.asarray(x0, F)[:, None])[:, None, :]
    dy = (a[None, :] - np.asarray(y0, F)[:, None])[:, :, None]
    c = np.cos(np.asarray(angle, F))[:, None, None]
    s = np.sin(np.asarray(angle, F))[:, None, None]
    across = dy * c - dx * s
    out = np.exp(-F(0.5) * (across / np.asarray(width, F)[:, None, None]) ** 2)
    if half_length is not None:
        along = dx * c + dy * s
        out *= np.abs(along) <= np.asarray(half_length, F)[:, None, None]
    out *= np.asarray(amplitude, F)[:, None, None]
    return out


def standard_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """Standard normal float32 deviates by the Box-Muller transform.

    About 1.6x faster than ``rng.standard_normal(dtype=float32)`` here, because
    numpy's float32 log, sqrt, sin and cos are vectorised; deterministic for a
    given generator state.
    """
    size = int(np.prod(shape))
    half = (size + 1) // 2
    u1 = rng.random(half, dtype=F)
    u2 = rng.random(half, dtype=F)
    np.subtract(F(1.0), u1, out=u1)  # (0, 1]: log is finite
    np.log(u1, out=u1)
    u1 *= F(-2.0)
    np.sqrt(u1, out=u1)
    u2 *= F(2.0 * np.pi)
    out = np.empty(2 * half, F)
    np.cos(u2, out=out[:half])
    np.sin(u2, out=u2)
    out[:half] *= u1
    np.multiply(u1, u2, out=out[half:])
    return out[:size].reshape(shape)


def add_noise(rng: np.random.Generator, images: np.ndarray, sd2: np.ndarray, extra) -> None:
    """``images += standard_normal(rng, images.shape) * sqrt(sd2 + extra)``, in place.

    ``images`` and ``sd2`` are (..., H, W) float32 arrays of the same shape (``sd2``, a
    variance, is overwritten); ``extra`` is a variance per plane, shaped like
    ``images.shape[:-2]`` plus two broadcast axes. The result is bit for bit that of
    :func:`standard_normal` followed by the two whole-array operations, but every step
    after the two uniform draws works on a few planes at a time, in the core's cache,
    rather than streaming each whole-batch array through memory a dozen times.
    """
    shape = images.shape
    plane = shape[-1] * shape[-2]
    n_planes = images.size // plane
    size = images.size
    half = (size + 1) // 2
    if (
        size != 2 * half
        or half % plane
        or not (images.flags.c_contiguous and sd2.flags.c_contiguous)
    ):
        sd2 += extra
        np.sqrt(sd2, out=sd2)
        noise = standard_normal(rng, shape)
        noise *= sd2
        images += noise
        return
    u1 = rng.random(half, dtype=F)
    u2 = rng.random(half, dtype=F)
    image_planes = images.reshape(n_planes, plane)
    var_planes = sd2.reshape(n_planes, plane)
    extra_planes = np.broadcast_to(np.asarray(extra, F), shape[:-2] + (1, 1)).reshape(n_planes, 1)
    u1, u2 = u1.reshape(-1, plane), u2.reshape(-1, plane)
    h = half // plane
    step = max(1, 65536 // plane)  # planes per step: a few arrays of 256 kB
    z = np.empty((step, plane), F)
    for a in range(0, h, step):
        b = min(a + step, h)
        r, t, out = u1[a:b], u2[a:b], z[: b - a]
        np.subtract(F(1.0), r, out=r)
        np.log(r, out=r)
        r *= F(-2.0)
        np.sqrt(r, out=r)
        t *= F(2.0 * np.pi)
        for lo, fn in ((a, np.cos), (a + h, np.sin)):
            hi = lo + b - a
            fn(t, out=out)
            out *= r
            v = var_planes[lo:hi]
            v += extra_planes[lo:hi]
            np.sqrt(v, out=v)
            out *= v
            image_planes[lo:hi] += out


def moffat_residual(x0, y0, fwhm, beta, flux, eps, sx, sy, size: int):
    """A Moffat source and its PSF-matching residual, to first order.

    Returns ``(P, R)`` where ``P`` is the source at ``fwhm`` and
    ``R = P - P'``, ``P'`` being the same source rendered with width
    ``fwhm (1 + eps)`` and shifted by ``(sx, sy)`` pixels.  Exact to first
    order in ``eps`` and the shift; zero net flux.
    """
    a = axis(size)
    alpha = moffat_alpha(fwhm, beta)
    inv = (F(1.0) / alpha**2)[:, None]
    dx = a[None, :] - np.asarray(x0, F)[:, None]
    dy = a[None, :] - np.asarray(y0, F)[:, None]
    u = (dy * dy * inv)[:, :, None] + (dx * dx * inv)[:, None, :]
    beta3 = np.asarray(beta, F)[:, None, None]
    one_u = u + F(1.0)
    p = np.log(one_u)
    p *= -beta3
    np.exp(p, out=p)
    p *= (np.asarray(flux, F) * moffat_norm(alpha, beta))[:, None, None]
    # dP/dx0 = 2 beta P dx / (alpha^2 (1 + u)); dP/dalpha = (-2 P + 2 beta u P / (1 + u)) / alpha
    q = p / one_u
    e = np.asarray(eps, F)[:, None, None]
    lin = (np.asarray(sy, F)[:, None] * dy * inv)[:, :, None] + (
        np.asarray(sx, F)[:, None] * dx * inv
    )[:, None, :]
    lin += e * u
    lin *= q
    lin *= F(-2.0) * beta3
    lin += F(2.0) * e * p
    return p, lin


def sersic_residual(x0, y0, re, n, q, theta, flux, soften, size: int):
    """A Sersic source with the derivative images of its matching residual.

    Returns ``(P, G_eps, G_x, G_y)``: the profile normalised to ``flux`` in the
    stamp, and images whose combination ``eps * G_eps + sx * G_x + sy * G_y``
    is the residual ``P - P'`` of a copy softened by ``(1 + eps)`` and shifted
    by ``(sx, sy)``, to first order, with the normalisation's change removed
    (zero net flux).
    """
    re = np.asarray(re, F)
    inv_re2 = F(1.0) / re**2
    s2 = np.asarray(soften, F) ** 2 * inv_re2
    r2 = elliptical_r2(x0, y0, q, theta, size, scale=inv_re2, add=s2)
    n = np.asarray(n, F)
    b = sersic_b(n)
    t = np.log(r2)
    t *= (F(0.5) / n)[:, None, None]
    np.exp(t, out=t)  # t = R^(1/2n)
    p = t * -b[:, None, None]
    np.exp(p, out=p)
    total = p.sum(axis=(1, 2), dtype=np.float64).astype(F)
    p *= (np.asarray(flux, F) / np.where(total > 0, total, F(1.0)))[:, None, None]
    # G = dP/dR = -b P t / (2 n R)
    g = p * t
    g /= r2
    g *= (-b / (F(2.0) * n))[:, None, None]
    a = axis(size)
    dx = (a[None, :] - np.asarray(x0, F)[:, None])[:, None, :]
    dy = (a[None, :] - np.asarray(y0, F)[:, None])[:, :, None]
    c = np.cos(np.asarray(theta, F))[:, None, None]
    s = np.sin(np.asarray(theta, F))[:, None, None]
    inv_q2 = (F(1.0) / np.asarray(q, F) ** 2)[:, None, None]
    k = inv_re2[:, None, None]
    A = (c * c + s * s * inv_q2) * k
    B = F(2.0) * c * s * (F(1.0) - inv_q2) * k
    C = (s * s + c * c * inv_q2) * k
    # R' - R = 2 eps s^2/re^2 - (2A dx + B dy) sx - (B dx + 2C dy) sy; residual = -G (R' - R)
    g_eps = g * (F(-2.0) * s2)[:, None, None]
    g_x = g * (F(2.0) * A * dx + B * dy)
    g_y = g * (B * dx + F(2.0) * C * dy)
    pn = p / np.where(total > 0, np.asarray(flux, F), F(1.0))[:, None, None]
    for img in (g_eps, g_x, g_y):  # keep the flux fixed: subtract the profile's share
        img -= pn * img.sum(axis=(1, 2), keepdims=True)
    return p, g_eps, g_x, g_y

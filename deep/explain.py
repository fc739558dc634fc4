"""What a trained CNN looks at: activation maps, first-layer filters, occlusion maps.

Backend-agnostic (plain Keras models and ``predict``); used by the report (seed 003
shows its CNN's activations layer by layer).
"""

from __future__ import annotations

import numpy as np

__all__ = ["activation_maps", "explain", "first_filters", "occlusion_map"]


def _conv_layers(model):
    return [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]


def activation_maps(model, image: np.ndarray, *, max_channels: int = 8) -> dict:
    """Outputs of each top-level conv layer for one image (H, W, C).

    Returns
    -------
    dict
        ``{layer name: array (h, w, c)}`` with at most ``max_channels`` channels (the
        most active ones), in network order.  Empty for models without top-level
        ``Conv2D`` layers (``keras.applications`` backbones are nested).
    """
    from ._keras import import_keras

    keras = import_keras()
    convs = _conv_layers(model)
    if not convs:
        return {}
    probe = keras.Model(model.inputs, [layer.output for layer in convs])
    outputs = probe.predict(np.asarray(image, np.float32)[None], verbose=0)
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    maps = {}
    for layer, out in zip(convs, outputs):
        fmap = np.asarray(out[0], np.float32)
        order = np.argsort(fmap.reshape(-1, fmap.shape[-1]).mean(axis=0))[::-1][:max_channels]
        maps[layer.name] = fmap[..., np.sort(order)]
    return maps


def first_filters(model) -> np.ndarray | None:
    """Kernel of the first top-level conv layer, (kh, kw, channels_in, filters), or None."""
    convs = _conv_layers(model)
    return np.asarray(convs[0].get_weights()[0], np.float32) if convs else None


def occlusion_map(
    predict_proba,
    image: np.ndarray,
    target: int,
    *,
    patch: int | None = None,
    stride: int | None = None,
) -> np.ndarray:
    """Drop in the probability of ``target`` when a square patch is grey-ed out.

    Parameters
    ----------
    predict_proba : callable
        Maps images (N, H, W, C) to probabilities (N, K).
    image : array (H, W, C)
    target : int
        Class whose probability is watched.
    patch, stride : int, optional
        Patch side (default H // 6) and step (default patch // 2), pixels.

    Returns
    -------
    numpy.ndarray (gh, gw)
        ``p(target | image) - p(target | occluded image)`` per patch position: large
        where the evidence for ``target`` lies.
    """
    image = np.asarray(image, np.float32)
    h, w, _ = image.shape
    patch = int(patch or max(2, h // 6))
    stride = int(stride or max(1, patch // 2))
    ys = list(range(0, max(1, h - patch + 1), stride))
    xs = list(range(0, max(1, w - patch + 1), stride))
    fill = np.median(image.reshape(-1, image.shape[-1]), axis=0)
    batch = np.repeat(image[None], len(ys) * len(xs) + 1, axis=0)
    for i, (y, x) in enumerate((y, x) for y in ys for x in xs):
        batch[i + 1, y : y + patch, x : x + patch] = fill
    proba = np.asarray(predict_proba(batch))[:, target]
    return (proba[0] - proba[1:]).reshape(len(ys), len(xs)).astype(np.float32)


def explain(method, images: np.ndarray, labels: np.ndarray) -> dict:
    """Everything the report shows for a fitted :class:`~deep.method.DeepMethod`.

    ``images`` are a few test images (one or more per class); the first gets the
    activation maps, each gets an occlusion map for its true class.
    """
    out = {}
    maps = activation_maps(method.model_, images[0])
    for i, (name, fmap) in enumerate(maps.items()):
        out[f"act{i}_{name}"] = fmap.astype(np.float16)
    filters = first_filters(method.model_)
    if filters is not None:
        out["filters"] = filters
    out["images"] = np.asarray(images, np.float16)
    out["labels"] = np.asarray(labels)
    out["occlusion"] = np.stack(
        [occlusion_map(method.predict_proba, img, int(y)) for img, y in zip(images, labels)]
    )
    return out

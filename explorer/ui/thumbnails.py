"""Small pictures of decoded signals (hover tooltips, completion cards, an embedded file beside its
reconstruction): images as they are, sounds as spectrograms, shapes as the export's software
rendering of a coarse SDF grid. Qt-free (PNG bytes), run in a worker thread."""
from __future__ import annotations

import io

import numpy as np

SIZE = 96


def _png(gray_or_rgb: np.ndarray, size: int = SIZE) -> bytes:
    from PIL import Image

    arr = np.clip(gray_or_rgb, 0, 1)
    img = Image.fromarray((arr * 255).astype(np.uint8))
    w, h = img.size
    scale = size / max(w, h)
    img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def img_tag(png: bytes) -> str:
    """A PNG inline in Qt rich text (tooltips, labels)."""
    import base64

    return f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def thumbnail_png(pipeline, z: np.ndarray, part=None, size: int = SIZE) -> bytes:
    plug = pipeline.parts[part]
    z = np.asarray(z, np.float32).reshape(1, -1)
    if plug.name == "image":
        pixels = pipeline.signal(z, part=part)[0]
        return _png(pixels[..., 0] if pixels.shape[-1] == 1 else pixels, size)
    if plug.name == "shape":
        from explorer.core.render import shade_sdf

        return _png(shade_sdf(pipeline.sdf_grid(z[0], 24 if size <= SIZE else 48, part=part), size), size)
    # sound: the log spectrogram, low frequencies at the bottom
    if getattr(plug, "target", "waveform") == "spectrogram":
        res = pipeline.resolution(part)
        return _spectrogram_png(pipeline.values(z, part=part)[0, :, 0].numpy().reshape(res), size)
    return _spectrogram_png(_log_spectrogram(pipeline.signal(z, part=part)[0]), size)


def observed_png(pipeline, observed, size: int = SIZE) -> bytes:
    """The same kind of picture of a signal read from a file (``embed.Observed``), to set beside its
    reconstruction."""
    plug = pipeline.parts[observed.part]
    if plug.name == "image":
        pixels = plug.to_signal(observed.values, tuple(pipeline.resolution(observed.part)))[0]
        return _png(pixels[..., 0] if pixels.shape[-1] == 1 else pixels, size)
    if plug.name == "shape":
        from explorer.core.render import shade_sdf
        from explorer.modalities.sdf import grid_coords

        r = 32
        return _png(shade_sdf(np.asarray(observed.exact(grid_coords(r).numpy())).reshape((r,) * 3), size), size)
    wave = observed.signals[0] if observed.signals is not None else observed.values[0, :, 0]
    return _spectrogram_png(_log_spectrogram(np.asarray(wave, np.float32).reshape(-1)), size)


def _log_spectrogram(wave: np.ndarray) -> np.ndarray:
    import torch

    from explorer.modalities.spectrogram import log_spectrogram

    return log_spectrogram(torch.from_numpy(np.asarray(wave, np.float32))[None], 512, 128)[0].numpy()


def _spectrogram_png(spec: np.ndarray, size: int) -> bytes:
    lo, hi = np.percentile(spec, 5), np.percentile(spec, 99.5)
    return _png(((spec - lo) / max(hi - lo, 1e-6))[::-1], size)

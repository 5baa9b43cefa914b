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
    from explorer.core.pictures import decoded_picture

    return _png(decoded_picture(pipeline, z, part, shape_grid=24 if size <= SIZE else 48), size)


def observed_png(pipeline, observed, size: int = SIZE) -> bytes:
    """The same kind of picture of a signal read from a file (``embed.Observed``), to set beside its
    reconstruction."""
    from explorer.core.pictures import log_spectrogram_of, rgb, spectrogram_picture

    plug = pipeline.parts[observed.part]
    if plug.name == "image":
        return _png(rgb(plug.to_signal(observed.values, tuple(pipeline.resolution(observed.part)))[0]), size)
    if plug.name == "shape":
        from explorer.core.render import shade_sdf
        from explorer.modalities.sdf import grid_coords

        r = 32
        return _png(shade_sdf(np.asarray(observed.exact(grid_coords(r).numpy())).reshape((r,) * 3), size), size)
    wave = observed.signals[0] if observed.signals is not None else observed.values[0, :, 0]
    return _png(spectrogram_picture(log_spectrogram_of(np.asarray(wave, np.float32).reshape(-1))), size)

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
    plug = pipeline.parts[observed.part]
    return _png(plug.observed_picture(observed, tuple(pipeline.resolution(observed.part)), 32), size)

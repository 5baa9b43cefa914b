"""Pictures of signals as RGB arrays in [0, 1] (no Qt), whatever the modality: each plug draws its own
(``decoded_picture``, ``item_picture``, ``observed_picture`` in ``explorer.modalities``)."""
from __future__ import annotations

import numpy as np


def decoded_picture(pipeline, z, part=None, shape_grid: int = 48) -> np.ndarray:
    """The picture of latent ``z`` decoded by ``pipeline`` (a ``DecodePipeline``)."""
    return pipeline.parts[part].decoded_picture(pipeline, np.asarray(z, np.float32).reshape(1, -1), part, shape_grid)


def real_picture(plug, dataset, i: int, shape_grid: int = 48) -> np.ndarray:
    """The same picture of item ``i`` of ``dataset`` (prepared by ``plug``: field values, real signals)."""
    return plug.item_picture(dataset, i, shape_grid)

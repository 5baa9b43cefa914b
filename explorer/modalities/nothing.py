"""The plug of latents that have neither a decoder nor files (plain embeddings on their own): there is no
signal to show, hear or export; the map, search, the k-NN graph and paths work on the latents alone."""
from __future__ import annotations

import numpy as np
import torch

from explorer.errors import ExplorerError

WHY = ("no decoder and no files: a frame has nothing to show; the map, search, the k-NN graph and paths work "
       "(give the original files to see the items a path passes)")


class NothingModality:
    name = "none"
    produces: tuple[str, ...] = ()
    in_dim = 1
    signal_words = ("item", "items")
    is_sdf = False
    quick_signal_iters = None
    bf16_decode = False
    read_suffixes: tuple[str, ...] = ()
    file_kind = ""
    write_suffixes: tuple[str, ...] = ()
    mask_kind = None
    dataset_reader = None

    def check_resolution(self, resolution: tuple[int, ...]) -> None:
        if tuple(resolution) != (1,):
            raise ExplorerError("latents without a signal have the resolution [1]")

    def coords(self, resolution: tuple[int, ...]) -> torch.Tensor:
        return torch.zeros(1, 1)

    def preview_resolution(self, resolution: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(resolution)

    def to_signal(self, values: torch.Tensor, resolution: tuple[int, ...]) -> np.ndarray:
        raise ExplorerError(WHY)

    def decoded_picture(self, pipeline, z, part, grid):
        raise ExplorerError(WHY)

    def options(self) -> dict:
        return {}

    def export_memory(self, fmt, resolution, options):
        raise ExplorerError(WHY)

"""What every modality plug provides (DESIGN.md: coordinates, field output -> signal, metrics, files)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from explorer.errors import ExplorerError


def check_suffix(path: str | Path, suffixes: tuple[str, ...]) -> None:
    """A plug's ``write`` takes only the extensions of the format it writes (any case)."""
    given = Path(path).suffix.lower()
    if given not in suffixes:
        raise ExplorerError(f"{path}: this is written as {' or '.join(suffixes)}, not {given or '(no extension)'}")


@dataclass
class Observed:
    """A file as field values of one part of a checkpoint (``read_file``)."""

    part: str | None
    values: torch.Tensor  # [1, P, C]
    coords: torch.Tensor  # [P, k] or [1, P, k]
    signals: torch.Tensor | None = None  # the waveform of a spectrogram field
    exact: object | None = field(default=None, repr=False)  # shapes: points -> true SDF
    notes: list[str] = field(default_factory=list)
    """What was done to the file to match the training signals (e.g. a picture's negative taken)."""


class Modality(Protocol):
    """A plug of one field. A plug of several (``audiovisual``: ``parts``, each one of these) has only
    ``name``, ``options``, ``prepare``, ``preset_settings`` and what is marked as also theirs below."""

    name: str
    in_dim: int
    produces: tuple[str, ...]
    """What an export of this part can hold: "pictures" (``export_picture``), "sound" (``to_signal``,
    ``sample_rate``), "meshes" (``export_mesh``)."""

    signal_words: tuple[str, str]
    """What a person calls one signal of this plug and several ("picture", "pictures")."""
    is_sdf: bool
    """The field is a signed distance: its signal is the mesh of a level set, decoded on a grid of the
    side asked for and refined in a narrow band (``DecodePipeline.mesh``), not ``to_signal`` of values
    sampled at the stored resolution."""
    quick_signal_iters: int | None
    """Iterations of a quick first ``to_signal`` for live use (``iters``: a short Griffin-Lim), shown
    before the full one; None where the signal has no cheaper version than itself."""

    def check_resolution(self, resolution: tuple[int, ...]) -> None:
        """``ExplorerError`` unless a stored ``resolution`` is one this plug samples (axes, sizes, options)."""

    def coords(self, resolution: tuple[int, ...]) -> torch.Tensor:
        """Field coordinates ``[P, in_dim]`` of a signal sampled at ``resolution``."""

    def to_signal(self, values: torch.Tensor, resolution: tuple[int, ...]) -> np.ndarray:
        """Field output ``[P, C]`` (or ``[B, P, C]``) -> the signal a person sees or hears."""

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The training reconstruction loss on sampled values ``[B, P, C]``."""

    def options(self) -> dict:
        """Settings that rebuild this plug from a checkpoint: ``get_modality(name, options)``."""

    def prepare(self, dataset):
        """A loaded ``SignalSet`` as this plug's field values (identity unless the field is a transform)."""

    def metrics(self, pred: torch.Tensor, target: torch.Tensor, signals=None, resolution=None,
                labels=None) -> dict[str, torch.Tensor]:
        """Per-item quality of ``pred`` against ``target`` (field values ``[B, P, C]``); ``signals``
        (the items' own signals, where values are a transform) and ``resolution`` serve plugs that
        measure the decoded signal rather than the field."""

    # Not in every plug: ``calibrate(pred, signals, resolution)``, which sets how the plug's decodes are
    # turned into signals from decodes ``pred`` of training items and their own ``signals`` (the level
    # of a spectrogram's frequencies); the trainer calls it, where a plug has it, when a run ends.

    def export_picture(self, pipeline, z: np.ndarray, part, options) -> np.ndarray:
        """One frame of an exported path or walk (plugs that produce "pictures"): RGB or grey in [0, 1]."""

    file_suffix: str
    """The file a signal of this plug is written to (``write``)."""
    write_suffixes: tuple[str, ...]
    """Every extension ``write`` takes (it refuses others rather than write one format under another's name)."""

    read_suffixes: tuple[str, ...]
    """The files ``read_file`` takes (lower-case extensions); also theirs: empty for plugs of several parts."""
    file_kind: str
    """What a file ``read_file`` takes is, with its article ("an image"), for messages."""

    def read_file(self, path: Path, pipeline, part, invert: bool | None = None) -> Observed:
        """The file as field values of ``part`` of ``pipeline``'s checkpoint, sampled as it was trained;
        ``invert`` serves plugs whose files may need their negative taken (pictures)."""

    dataset_reader: str
    """Also theirs: which reader of ``explorer.data`` turns a ``--data`` spec into this plug's dataset."""

    def data_resolution(self, info: dict) -> int | None:
        """Also theirs: the ``resolution`` a dataset is read at (``data.load_dataset``) to match a checkpoint
        whose ``modality`` entry is ``info``; None where the data sets its own sampling."""

    def target_options(self, target: str | None, preset: str) -> dict | None:
        """Also theirs: ``options`` for the sound target ``target`` (``--audio-target``; None: this plug's
        default under ``preset``), or None for plugs without sound."""

    def export_memory(self, fmt: str, resolution: tuple[int, ...], options) -> tuple[int, int]:
        """Bytes an export to ``fmt`` (".gif", ".wav", ...) needs for this part: ``(per frame kept, once at
        the peak)``; ``resolution`` is the stored one, ``options`` the export's."""

    mask_kind: str | None
    """Also theirs: how a person hides part of a signal (``hidden_mask``'s spec): "pixels" (a painted mask
    or a preset), "time range" (START:END seconds) or "half-space" (x>0); None for plugs of several parts."""

    def hidden_mask(self, spec: str, resolution: tuple[int, ...], coords: np.ndarray) -> np.ndarray:
        """``[P]`` bool, True where a completion's source is hidden, from what a person wrote (``--mask``)."""

    def visible_part(self, values: torch.Tensor, hidden: np.ndarray, resolution: tuple[int, ...]):
        """The signal as a completion saw it, hidden part blanked; None where that is not worth showing."""

    def preview_resolution(self, resolution: tuple[int, ...]) -> tuple[int, ...]:
        """A cheaper sampling than ``resolution`` for the first, quick decode of a live preview."""

    # pictures of a signal, RGB ``[H, W, 3]`` in [0, 1]: alike whatever their source, so that they can be
    # set side by side (hover thumbnails, contact sheets); ``grid`` is the SDF grid side for shapes
    def decoded_picture(self, pipeline, z: np.ndarray, part, grid: int) -> np.ndarray:
        """Latent ``z [1, d]`` decoded by ``pipeline`` (its part ``part``)."""

    def item_picture(self, data, i: int, grid: int) -> np.ndarray:
        """Item ``i`` of a dataset prepared by this plug."""

    def observed_picture(self, observed, resolution: tuple[int, ...], grid: int) -> np.ndarray:
        """A signal read from a file (``core.embed.Observed``)."""

"""Images as fields over [-1, 1]^2: pixel centres -> grey or RGB value (field values in [-1, 1])."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.io.atomic import atomic_write_bytes
from explorer.models.losses import reconstruction_loss
from explorer.modalities.base import Observed, check_suffix
from explorer.modalities.image_file import IMAGE_SUFFIXES, is_grey_mode, open_picture, read_picture
from explorer.modalities.masks import image_mask
from explorer.modalities.pictures import rgb

NEGATIVE_NOTE = "its negative was embedded"
"""How a note says that a picture was taken as its negative (the window captions that picture so)."""


MIN_PICTURE = 256
"""Pixels on the long side of exported pictures by default: a 28 x 28 GIF is a postage stamp. The field is
decoded at that size (a neural field has no pixels of its own), not upscaled."""


def picture_size(trained: tuple[int, ...], resolution: int | None) -> tuple[int, int]:
    """The ``(height, width)`` an image part is exported at: ``resolution`` on the long side when given,
    else the trained size scaled up to ``MIN_PICTURE`` on the long side (never down)."""
    h, w = int(trained[0]), int(trained[1])
    side = resolution or max(MIN_PICTURE, h, w)
    scale = side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def border_level(pixels: np.ndarray) -> float:
    """The mean grey level of a picture's outermost pixels ``[..., H, W, C]`` in [0, 1]: its background."""
    p = np.asarray(pixels, np.float32)
    edge = np.concatenate([p[..., 0, :, :].reshape(-1), p[..., -1, :, :].reshape(-1),
                           p[..., :, 0, :].reshape(-1), p[..., :, -1, :].reshape(-1)])
    return float(edge.mean())


def training_background(pipeline, part=None, n: int = 32) -> float:
    """The background level of the checkpoint's pictures: ``border_level`` of decodes of ``n`` training items."""
    bank = pipeline.ckpt.latents.numpy()
    pick = np.linspace(0, len(bank) - 1, min(n, len(bank))).round().astype(int)
    return border_level(pipeline.signal(bank[pick], part=part))


class ImageModality:
    name = "image"
    produces = ("pictures",)
    """What an export of this part can hold (``core.export``)."""
    signal_words = ("picture", "pictures")
    bf16_decode = True
    """``precision auto`` decodes pictures in bfloat16: measured on the shipped Fashion-MNIST model,
    mean pixel error 0.3/255, worst 3/255 against float32 (``latent-explorer bench``)."""
    in_dim = 2

    def check_resolution(self, resolution: tuple[int, ...]) -> None:
        if len(resolution) != 2:
            raise ExplorerError(f"an image's resolution is [height, width], not {list(resolution)}")

    def coords(self, resolution: tuple[int, int]) -> torch.Tensor:
        """Pixel centres of an ``H x W`` image, row-major, as ``(y, x)`` in ``[-1, 1]``: ``[H*W, 2]``."""
        h, w = resolution
        ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h * 2 - 1
        xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w * 2 - 1
        grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1)
        return grid.reshape(-1, 2)

    @staticmethod
    def to_field(pixels: np.ndarray) -> np.ndarray:
        """Pixels in [0, 1] ``[..., H, W, C]`` -> field values in [-1, 1] ``[..., H*W, C]``."""
        pixels = np.asarray(pixels, dtype=np.float32)
        return (pixels * 2 - 1).reshape(*pixels.shape[:-3], -1, pixels.shape[-1])

    is_sdf = False
    quick_signal_iters = None

    def to_signal(self, values: torch.Tensor, resolution: tuple[int, int]) -> np.ndarray:
        """Field values ``[..., H*W, C]`` -> pixels in [0, 1] ``[..., H, W, C]``."""
        v = values.detach().float().cpu().numpy()
        img = np.clip((v + 1) / 2, 0, 1)
        return img.reshape(*v.shape[:-2], resolution[0], resolution[1], v.shape[-1])

    def preview_resolution(self, resolution: tuple[int, ...]) -> tuple[int, ...]:
        """Half size (at least 16 pixels) for the quick first decode of a live preview."""
        return tuple(max(16, r // 2) if r > 16 else r for r in resolution)

    file_suffix = ".png"
    write_suffixes = (".png",)

    mask_kind = "pixels"

    def hidden_mask(self, spec: str, resolution: tuple[int, ...], coords: np.ndarray) -> np.ndarray:
        """``[P]`` bool, True where hidden: a preset (left-half, centre, ...) or a mask image, white where hidden."""
        return image_mask(spec, *resolution).reshape(-1)

    def visible_part(self, values: torch.Tensor, hidden: np.ndarray, resolution: tuple[int, ...]) -> np.ndarray:
        """What a completion saw: the picture with its hidden part grey."""
        seen = values.detach().cpu().numpy().copy()
        seen[hidden] = 0.0
        return self.to_signal(torch.from_numpy(seen), resolution)

    read_suffixes = tuple(sorted(IMAGE_SUFFIXES))
    file_kind = "an image"

    def read_file(self, path: Path, pipeline, part, invert: bool | None = None) -> Observed:
        """The picture at the trained size and channels. ``invert``: take its negative; ``None`` decides by
        the background: a dark shoe on white, given to a model of light garments on black, is embedded as
        its negative and the result says so (embedded as it was, it came out a grey square)."""
        info = pipeline.part_info(part)
        h = info["resolution"][0]
        grey = info["channels"] == 1
        with open_picture(path) as img:
            mode, size = img.mode, img.size
        pixels = read_picture(path, grey, (h, h), square=True)
        notes = []
        if grey and not is_grey_mode(mode) and _has_colour(path, h):
            notes.append(f"{path.name} is in colour and this checkpoint's pictures are grey: it was embedded in grey")
        if size != (h, h):
            notes.append(f"{path.name} is {size[0]} x {size[1]} pixels: "
                         + ("its middle square was " if size[0] != size[1] else "it was ") + f"scaled to {h} x {h}")
        if invert is None:
            mine, theirs = border_level(pixels), training_background(pipeline, part)
            invert = abs(mine - theirs) > 0.5 and abs((1 - mine) - theirs) < 0.25
            if invert:
                notes.append(f"{path.name} has a {'light' if mine > 0.5 else 'dark'} background and the training "
                             f"pictures a {'dark' if mine > 0.5 else 'light'} one: {NEGATIVE_NOTE}")
        if invert:
            pixels = 1.0 - pixels
        values = torch.from_numpy(self.to_field(pixels[None]))
        return Observed(part, values, self.coords(tuple(info["resolution"])), notes=notes)

    dataset_reader = "pictures"
    """Built-in picture sets (fashion-mnist, sprites) or a folder of images."""

    def data_resolution(self, info: dict) -> int | None:
        """The picture's side: folders and sprites are read at the checkpoint's size."""
        return info["resolution"][0]

    def target_options(self, target: str | None, preset: str) -> dict | None:
        return None

    def export_memory(self, fmt: str, resolution: tuple[int, ...], options) -> tuple[int, int]:
        """Pictures (GIF, MP4, a PNG strip): the frame, its image, the palette image or the strip; once its
        coordinates and values while decoding."""
        if fmt not in (".gif", ".mp4", ".png"):
            return 0, 0
        h, w = picture_size(resolution, options.resolution)
        return h * w * 3 * 3, h * w * 4 * 8

    def export_picture(self, pipeline, z: np.ndarray, part, options) -> np.ndarray:
        """One frame of an exported path: ``[H, W, C]`` in [0, 1], decoded at ``picture_size``."""
        res = picture_size(pipeline.resolution(part), options.resolution)
        return pipeline.signal(np.asarray(z, np.float32).reshape(1, -1), res, part=part)[0]

    # pictures of a signal (hover thumbnails, contact sheets): the pixels themselves
    def decoded_picture(self, pipeline, z: np.ndarray, part, grid: int) -> np.ndarray:
        return rgb(pipeline.signal(z, part=part)[0])

    def item_picture(self, data, i: int, grid: int) -> np.ndarray:
        return rgb(self.to_signal(torch.from_numpy(data.values[i : i + 1]), tuple(data.resolution))[0])

    def observed_picture(self, observed, resolution: tuple[int, ...], grid: int) -> np.ndarray:
        return rgb(self.to_signal(observed.values, resolution)[0])

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Training reconstruction loss: mean squared error (GEM eq. 4)."""
        return reconstruction_loss(pred, target)

    def options(self) -> dict:
        return {}

    def prepare(self, dataset):
        """The dataset as field values: already so."""
        return dataset

    def metrics(self, pred: torch.Tensor, target: torch.Tensor, signals=None, resolution=None,
                labels=None) -> dict[str, torch.Tensor]:
        """MSE and PSNR per item on [0, 1] pixels (GEM fig. 3). ``pred, target: [B, P, C]``."""
        p = ((pred.clamp(-1, 1) + 1) / 2).float()
        t = ((target + 1) / 2).float()
        mse = ((p - t) ** 2).flatten(1).mean(1)
        psnr = 10 * torch.log10(1.0 / mse.clamp_min(1e-10))
        return {"mse": mse, "psnr": psnr}

    def write(self, path: str | Path, signal: np.ndarray) -> None:
        """Save pixels ``[H, W, C]`` in [0, 1] as a PNG, atomically."""
        import io

        from PIL import Image

        check_suffix(path, self.write_suffixes)
        arr = np.round(np.clip(signal, 0, 1) * 255).astype(np.uint8)
        img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        atomic_write_bytes(path, buf.getvalue())


def _has_colour(path: Path, side: int) -> bool:
    """The picture's colours differ from grey somewhere (a colour file may hold a grey picture)."""
    pixels = read_picture(path, False, (side, side), square=True)
    return float((pixels.max(-1) - pixels.min(-1)).max()) > 0.05

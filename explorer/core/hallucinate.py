"""Cross-modal hallucination (GEM §5.2, fig. 8) on audio-visual checkpoints: fit the shared latent to one
part only and decode the other. On the project's av-notes data the true pairing is known, so how often
the hallucinated partner matches can be counted: the pitch of a sound proposed for a picture, the key
marked in a picture proposed for a sound."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.modalities.audio_metrics import on_pitch
from explorer.models import part_field
from explorer.train.fitting import DEFAULT_STARTS, FitPart, FitProgress, fit_k_ways, last_latents


def hallucinate_steps(pipeline, given: str, values: torch.Tensor, k: int = 4, steps: int = 300,
                      seed: int = 0, starts: str = DEFAULT_STARTS) -> Iterator[FitProgress]:
    """Fit K latents to ``values [1, P, C]`` of part ``given`` alone, from K different starts
    (``fit_k_ways``): progress after every step (close to cancel); the last holds the ``[K, d]`` latents, the
    closest start's first where the starts are "closest" (the default)."""
    pipeline.check_fittable()
    if "parts" not in pipeline.ckpt.modality:
        raise ExplorerError("hallucination needs an audio-visual checkpoint (one latent, two fields)")
    plug = pipeline.parts[given]
    coords = plug.coords(pipeline.resolution(given))
    field = part_field(pipeline.model, given)

    def parts_for(m: int) -> list[FitPart]:
        return [FitPart(field, values.expand(m, -1, -1), coords, loss_fn=plug.loss)]

    return fit_k_ways(pipeline.ckpt.latents, parts_for, k, steps, starts, seed, cache=pipeline.bank_decodes,
                      precision=pipeline.part_precision[given])


def hallucinate(pipeline, given: str, values: torch.Tensor, k: int = 4, steps: int = 300, seed: int = 0,
                starts: str = DEFAULT_STARTS) -> np.ndarray:
    """``[K, d]`` latents fitted to ``values [1, P, C]`` of part ``given`` alone, from K different starts."""
    return last_latents(hallucinate_steps(pipeline, given, values, k, steps, seed, starts))


def read_key(pixels: np.ndarray) -> int:
    """The key marked in an av-notes picture: the marker above the keyboard points at it."""
    from explorer.data.av_notes import MARKER_TIP, MARKER_TOP, key_geometry

    img = np.asarray(pixels, np.float64)
    img = img[..., 0] if img.ndim == 3 else img
    s = img.shape[0]
    rows = img[int(MARKER_TOP * s) : int(MARKER_TIP * s) + 1]
    x = (np.argmax((1 - rows).sum(0)) + 0.5) / img.shape[1]  # the marker's column, as a fraction of the side
    centres, _ = key_geometry()
    pitch = min(centres, key=lambda p: abs(centres[p] - x))
    return list(centres).index(pitch)


def match_rate(pipeline, dataset, max_items: int = 50, k: int = 4, steps: int = 200, starts: str = DEFAULT_STARTS) -> dict:
    """How often the hallucinated partner matches the true pairing, over the first ``max_items`` items
    of ``dataset`` (an av-notes set): image → sound (pitch within half a semitone) and sound → image (key)."""
    img, aud = dataset.parts["image"], pipeline.parts["audio"].prepare(dataset.parts["audio"])
    n = min(max_items, len(dataset.names))
    pitch_hits, pitch_any, key_hits, key_any = [], [], [], []
    for i in range(n):
        true_pitch, true_key = int(dataset.labels["pitch"][i]), int(dataset.labels["key"][i])
        z = hallucinate(pipeline, "image", torch.from_numpy(img.values[i : i + 1]), k, steps, seed=i, starts=starts)
        waves = pipeline.signal(z, part="audio")
        hits = on_pitch(waves, [true_pitch] * len(waves)).bool().tolist()
        pitch_hits.append(hits[0])
        pitch_any.append(any(hits))
        z = hallucinate(pipeline, "audio", torch.from_numpy(aud.values[i : i + 1]), k, steps, seed=i, starts=starts)
        pictures = pipeline.signal(z, part="image")
        keys = [read_key(p) == true_key for p in pictures]
        key_hits.append(keys[0])
        key_any.append(any(keys))
    return {"items": n, "k": k, "fit_steps": steps, "starts": starts,
            "image_to_sound_pitch_match": float(np.mean(pitch_hits)),
            "image_to_sound_pitch_match_any_of_k": float(np.mean(pitch_any)),
            "sound_to_image_key_match": float(np.mean(key_hits)),
            "sound_to_image_key_match_any_of_k": float(np.mean(key_any)),
            "chance_key": 1 / 25}

"""``explorer.show``/``explorer.save`` without the window: a person's own decoder, in their own domain, seen
in this project's conventions (coordinates mapped in, values mapped out) by the decode pipeline."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.errors import ExplorerError


def blob_decoder(z, coords):
    """An image decoder in its own conventions: coordinates (x, y) in [0, 1], values in [0, 1]; the latent's
    first two numbers are where the blob is."""
    c = coords if coords.ndim == 3 else coords[None]
    return torch.exp(-((c - z[:, None, :2]) ** 2).sum(-1, keepdim=True) / 0.01)


def test_an_image_decoder_in_its_own_domain_decodes_where_its_latent_says():
    from explorer.core.own_model import checkpoint_from_python
    from explorer.core.pipeline import DecodePipeline

    latents = np.array([[0.25, 0.75], [0.8, 0.2], [0.5, 0.5]], np.float32)
    ckpt = checkpoint_from_python(latents, blob_decoder, "image", labels=["a", "b", "a"],
                                  domain={"size": (40, 20), "coords": (0, 1), "order": "xy"})
    assert ckpt.modality == {"name": "image", "resolution": [40, 20], "channels": 1}
    assert ckpt.labels == {"label": ["a", "b", "a"]} and ckpt.names[0] == "item 0"
    pictures = DecodePipeline(ckpt).signal(latents)  # [B, H, W, 1] in [0, 1]
    for (x, y), picture in zip(latents, pictures):
        row, col = np.unravel_index(np.argmax(picture[..., 0]), picture.shape[:2])
        assert abs((row + 0.5) / 40 - y) < 0.05 and abs((col + 0.5) / 20 - x) < 0.05  # x across, y down
        assert picture.max() > 0.85 and picture.min() < 0.01  # [0, 1] values shown as [0, 1] pixels


def test_an_occupancy_decoder_in_its_own_bounds_meshes_at_its_iso_level():
    from explorer.core.own_model import checkpoint_from_python
    from explorer.core.pipeline import DecodePipeline

    class Ball(torch.nn.Module):  # occupancy, inside positive, in the cube [-0.5, 0.5]^3: radius = z[0]
        def forward(self, z, coords):
            c = coords if coords.ndim == 3 else coords[None]
            return torch.sigmoid((z[:, None, :1] - c.norm(dim=-1, keepdim=True)) * 40)

    ckpt = checkpoint_from_python(torch.tensor([[0.2, 0.0], [0.4, 1.0]]), Ball(), "shape",
                                  domain={"bounds": (-0.5, 0.5), "level": 0.5, "inside": "positive", "grid": 48})
    pipeline = DecodePipeline(ckpt)
    for radius, (vertices, faces) in zip((0.2, 0.4), pipeline.signal(ckpt.latents.numpy())):
        assert len(faces) > 100  # the surface is where occupancy crosses 0.5, in the cube scaled to [-1, 1]
        assert abs(np.median(np.linalg.norm(vertices, axis=1)) - radius * 2) < 0.05


def test_a_waveform_decoder_at_its_own_sample_rate_sounds_at_its_pitch():
    from explorer.core.own_model import checkpoint_from_python
    from explorer.core.pipeline import DecodePipeline

    def tone(z, t):  # t in seconds over half a second; values in [-0.5, 0.5]
        return 0.5 * torch.sin(2 * np.pi * z[:, None, :1] * (t if t.ndim == 3 else t[None]))

    ckpt = checkpoint_from_python([[220.0], [330.0]], tone, "audio",
                                  domain={"sample_rate": 8000, "seconds": 0.5, "coords": (0, 0.5), "range": (-0.5, 0.5)})
    pipeline = DecodePipeline(ckpt)
    assert pipeline.parts[None].sample_rate == 8000 and pipeline.resolution() == (4000,)
    waves = pipeline.signal(ckpt.latents.numpy())
    for hz, wave in zip((220, 330), waves):
        spectrum = np.abs(np.fft.rfft(wave))
        assert abs(np.fft.rfftfreq(len(wave), 1 / 8000)[np.argmax(spectrum)] - hz) <= 2  # 2 Hz bins
        assert 0.95 < np.abs(wave).max() <= 1.0  # the decoder's +-0.5 is full scale


@pytest.mark.parametrize("args, message", [
    (dict(kind="video"), "choose one of image, audio, shape"),
    (dict(domain={}), "needs its size"),
    (dict(domain={"size": 8, "colour": 1}), "has no colour"),
    (dict(domain={"size": 8, "range": (1, 0)}), "low < high"),
    (dict(decoder=lambda z, c: 1 / 0), "ZeroDivisionError"),
    (dict(decoder=lambda z, c: torch.zeros(3)), "must return [B, P, C]"),
    (dict(latents=[[float("nan"), 0.0]]), "NaN"),
    (dict(names=["one"]), "1 names for 2 latents"),
])
def test_bad_arguments_are_one_line_errors_before_any_window(args, message):
    from explorer.core.own_model import checkpoint_from_python

    call = dict(latents=[[0.1, 0.2], [0.3, 0.4]], decoder=blob_decoder, kind="image", domain={"size": 8}) | args
    with pytest.raises(ExplorerError) as e:
        checkpoint_from_python(**call)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_save_writes_one_of_our_fields_as_a_checkpoint(tmp_path):
    import explorer
    from explorer.models import FieldConfig, build_model
    from explorer.models.checkpoint import load_checkpoint

    field = build_model(FieldConfig(in_dim=2, out_dim=3, latent_dim=8, hidden=32, hyper_hidden=32))
    latents = torch.randn(5, 8)
    explorer.save(tmp_path / "mine.safetensors", latents, field, domain={"size": (12, 16)}, labels={"set": list("aabba")})
    ckpt = load_checkpoint(tmp_path / "mine.safetensors")
    assert ckpt.modality["resolution"] == [12, 16] and ckpt.labels["set"] == list("aabba")
    coords = torch.rand(10, 2) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(ckpt.build_model()(latents, coords), field(latents, coords))
    # another decoder is written as an ONNX bundle (tests/test_onnx_bundle.py); one the exporter cannot
    # follow (numpy inside: traced as constants) is refused, and nothing is left behind
    def numpy_inside(z, c):
        d = ((c.numpy()[None] - z.numpy()[:, None, :2]) ** 2).sum(-1, keepdims=True)
        return torch.from_numpy(np.exp(-d / 0.01)).float()

    with pytest.raises(ExplorerError) as e:
        explorer.save(tmp_path / "other", [[0.2, 0.3], [0.5, 0.5], [0.7, 0.1]], numpy_inside, "image", domain={"size": 8})
    assert "\n" not in str(e.value) and not (tmp_path / "other").exists()

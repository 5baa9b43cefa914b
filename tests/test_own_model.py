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


def test_meshes_of_a_decoder_with_its_own_bounds_are_written_and_read_in_its_units(tmp_path):
    import trimesh

    from explorer.core.export import ExportOptions, export
    from explorer.core.own_model import checkpoint_from_python
    from explorer.core.pipeline import DecodePipeline

    def ball(z, coords):  # an SDF in centimetres, in the box [0, 200] x [0, 100] x [0, 100]: a ball of radius z[0]
        c = coords if coords.ndim == 3 else coords[None]
        return (c - torch.tensor([100.0, 50.0, 50.0])).norm(dim=-1, keepdim=True) - z[:, None, :1]

    ckpt = checkpoint_from_python([[20.0], [40.0]], ball, "shape", domain={"bounds": [[0, 0, 0], [200, 100, 100]]})
    pipeline = DecodePipeline(ckpt)
    plug = pipeline.parts[None]
    plug.write(tmp_path / "small.ply", pipeline.signal(ckpt.latents.numpy()[:1])[0])
    v = trimesh.load(tmp_path / "small.ply", process=False).vertices
    assert np.abs(np.linalg.norm(v - [100, 50, 50], axis=1) - 20).max() < 3  # centimetres, where the decoder has it
    export(pipeline, ckpt.latents.numpy(), tmp_path / "path.zip", ExportOptions(resolution=48))
    import zipfile

    with zipfile.ZipFile(tmp_path / "path.zip") as z:
        (tmp_path / "frames").mkdir()
        z.extractall(tmp_path / "frames")
    last = trimesh.load(sorted((tmp_path / "frames").iterdir())[-1], process=False).vertices
    assert abs(np.median(np.linalg.norm(last - [100, 50, 50], axis=1)) - 40) < 3
    # a mesh file in those units is read where the decoder has it: the small ball matches the first latent
    observed = plug.read_file(tmp_path / "small.ply", pipeline, None)
    with torch.no_grad():
        decoded = ckpt.module(ckpt.latents[:1], observed.coords[0].float())[0, :, 0]
    inside = observed.values[0, :, 0] < 0
    assert inside.sum() > 100 and ((decoded < 0) == inside).float().mean() > 0.97


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


@pytest.mark.parametrize("order, scale", [("ft", "ln"), ("tf", "db")])
def test_a_spectrogram_decoder_is_heard_at_its_pitch(order, scale):
    from explorer.core.own_model import checkpoint_from_python
    from explorer.core.pipeline import DecodePipeline

    rate, n_fft, bins = 8000, 256, 129

    def partial(z, c):  # one partial at z[0] Hz: loud in its STFT bin, silent elsewhere; coordinates in [0, 1]
        c = c if c.ndim == 3 else c[None]
        u = c[..., 0 if order == "ft" else 1]
        hz = (u * bins - 0.5) * rate / n_fft  # the bin centre's frequency
        loud = (hz - z[:, None, :1][..., 0]).abs() < rate / n_fft
        ln = torch.where(loud, torch.tensor(3.0), torch.tensor(-9.0))[..., None]
        return ln * 20 / np.log(10) if scale == "db" else ln

    ckpt = checkpoint_from_python([[440.0], [1000.0]], partial, "audio", domain={
        "target": "spectrogram", "sample_rate": rate, "seconds": 0.5, "n_fft": n_fft, "hop": 64,
        "coords": (0, 1), "order": order, "scale": scale})
    pipeline = DecodePipeline(ckpt)
    assert pipeline.resolution() == (bins, 4000 // 64 + 1) and pipeline.parts[None].sample_rate == rate
    for hz, wave in zip((440, 1000), pipeline.signal(ckpt.latents.numpy())):
        assert wave.shape == (4000,) and np.abs(wave).max() > 0.05  # heard, not silence
        spectrum = np.abs(np.fft.rfft(wave))
        assert abs(np.fft.rfftfreq(len(wave), 1 / rate)[np.argmax(spectrum)] - hz) <= rate / n_fft


@pytest.mark.parametrize("args, message", [
    (dict(kind="video"), "choose one of image, audio, shape"),
    (dict(kind="audio", domain={"n_fft": 256}), "add 'target': 'spectrogram'"),
    (dict(kind="audio", domain={"target": "spectrogram", "range": (0, 1)}), "give scale"),
    (dict(kind="audio", domain={"target": "mel"}), "'waveform' or 'spectrogram'"),
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

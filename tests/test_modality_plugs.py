"""What callers ask the modality plugs instead of checking a modality's name (issue 15)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from explorer.errors import ExplorerError
from explorer.modalities import KNOWN, file_plugs, get_modality


def _pipeline(info: dict, data: dict | None = None):
    return SimpleNamespace(part_info=lambda part: info, ckpt=SimpleNamespace(data=data or {}))


def test_every_plug_has_a_dataset_reader_and_files_go_to_one_plug():
    from explorer.core.embed import signal_file_filter
    from explorer.data import _READERS

    assert all(get_modality(name).dataset_reader in _READERS for name in KNOWN)
    assert [p.name for p in file_plugs()] == ["image", "audio", "shape"]
    assert signal_file_filter() == "Signals (*.jpeg *.jpg *.png *.flac *.ogg *.wav *.obj *.off *.ply *.stl)"


def test_image_plug_reads_a_picture_at_the_trained_size(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((40, 60), 255, np.uint8)).save(tmp_path / "white.png")
    plug = get_modality("image")
    info = {"resolution": [8, 8], "channels": 1}
    seen = plug.read_file(tmp_path / "white.png", _pipeline(info), None, invert=False)
    assert seen.values.shape == (1, 64, 1) and float(seen.values.min()) == pytest.approx(1.0)
    assert seen.coords.shape == (64, 2) and seen.notes == ["white.png is 60 x 40 pixels: its middle square was scaled to 8 x 8"]
    negative = plug.read_file(tmp_path / "white.png", _pipeline(info), None, invert=True)
    assert float(negative.values.max()) == pytest.approx(-1.0)


def test_audio_plug_reads_a_clip_as_its_field(tmp_path):
    import soundfile

    soundfile.write(tmp_path / "tone.wav", 0.5 * np.sin(np.arange(8000) / 5.0).astype(np.float32), 8000)
    waveform = get_modality("audio", {"target": "waveform"})
    seen = waveform.read_file(tmp_path / "tone.wav", _pipeline({"resolution": [16000]}), "audio")
    assert seen.part == "audio" and seen.values.shape == (1, 16000, 1) and seen.signals is None
    spectrogram = get_modality("audio", {"target": "spectrogram"})
    grid = (spectrogram.n_fft // 2 + 1, spectrogram.length // spectrogram.hop + 1)
    seen = spectrogram.read_file(tmp_path / "tone.wav", _pipeline({"resolution": list(grid)}), None)
    assert seen.values.shape == (1, grid[0] * grid[1], 1) and seen.signals.shape == (1, 16000)
    half = waveform.read_file(tmp_path / "tone.wav", _pipeline({"resolution": [8000]}), None)
    assert half.values.shape == (1, 8000, 1)  # a model of half-second clips reads half a second
    with pytest.raises(ExplorerError, match="does not match the checkpoint's sampling"):
        spectrogram.read_file(tmp_path / "tone.wav", _pipeline({"resolution": [grid[0], grid[1] + 3]}), None)


def test_shape_plug_reads_a_mesh_as_signed_distances(tmp_path):
    import trimesh

    trimesh.creation.box().export(tmp_path / "box.ply")
    seen = get_modality("shape").read_file(tmp_path / "box.ply", _pipeline({}), None)
    assert seen.values.shape == (1, 4096, 1) and seen.coords.shape == (1, 4096, 3)
    assert seen.exact(np.zeros((1, 3), np.float32))[0, 0] < 0  # the centre is inside
    # a model trained with its surfaces moved out (``--set shell``) reads a file's mesh moved out as far
    near = np.array([[0.95, 0, 0]], np.float32)  # 0.05 outside the face of the box (read into [-0.9, 0.9]³)
    shelled = get_modality("shape").read_file(tmp_path / "box.ply", _pipeline({}, {"shell": 0.1}), None)
    assert seen.exact(near)[0, 0] > 0 > shelled.exact(near)[0, 0]
    # and its near-surface samples lie about the moved surface, not the file's
    moved, unmoved = np.abs(shelled.values[0, 2048:, 0]).mean(), np.abs(shelled.exact(seen.coords[0, 2048:].numpy())).mean()
    assert moved < 0.04 < 0.08 < unmoved, (moved, unmoved)


def test_export_memory_and_options_per_plug():
    options = SimpleNamespace(resolution=None, render_size=100)
    image, audio, shape = get_modality("image"), get_modality("audio"), get_modality("shape")
    assert image.export_memory(".gif", (28, 28), options) == (256 * 256 * 9, 256 * 256 * 32)
    assert image.export_memory(".wav", (28, 28), options) == (0, 0)
    assert audio.export_memory(".wav", (16000,), options) == (16000 * 12, 0)
    assert shape.export_memory(".zip", (64,), options) == (300 * 64 * 64, 64**3 * 32)
    assert shape.export_memory(".png", (64,), options) == (100 * 100 * 9, 64**3 * 32)
    with pytest.raises(ExplorerError, match="at most"):
        shape.export_memory(".zip", (64,), SimpleNamespace(resolution=1000, render_size=100))
    assert audio.target_options(None, "audio-waveform") == {"target": "waveform"}
    assert audio.target_options(None, "small") == {"target": "spectrogram"}
    assert get_modality("audiovisual").target_options(None, "audio-waveform") == {"audio": {"target": "spectrogram"}}
    assert image.target_options("waveform", "small") is None and shape.target_options(None, "small") is None
    av_info = {"name": "audiovisual", "parts": {"image": {"resolution": [48, 48]}, "audio": {"resolution": [16000]}}}
    assert get_modality("audiovisual").data_resolution(av_info) == 48
    assert image.data_resolution({"resolution": [28, 28]}) == 28 and shape.data_resolution({"resolution": [64]}) is None

"""Export: every format read back and checked, as a user would open the file."""
import json
import zipfile

import numpy as np
import pytest
import soundfile

from explorer.models.checkpoint import load_checkpoint
from explorer.core.shipped import CHECKPOINT_DIR, DEFAULT_CHECKPOINT

from conftest import run_cli

NOTES = CHECKPOINT_DIR / "notes.safetensors"


def test_gif_has_every_frame_at_the_requested_resolution(tmp_path):
    out = tmp_path / "p.gif"
    run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "0", "--to", "5", "--frames", "12", "--resolution", "56",
            "--fps", "10", "--out", str(out))
    from PIL import Image

    with Image.open(out) as im:
        assert im.n_frames == 12 and im.size == (56, 56)  # decoded at 56, not upscaled from 28
        assert im.info["duration"] == 100 and im.info["loop"] == 0
    out2 = tmp_path / "pp.gif"
    run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "0", "--to", "5", "--frames", "12", "--pingpong",
            "--out", str(out2))
    with Image.open(out2) as im:
        assert im.n_frames == 12 + 10  # forwards, then back without repeating the ends
        assert im.size == (256, 256)  # by default big enough to see, decoded at that size
        im.seek(0)
        first = np.asarray(im.convert("L"), np.float32)
    # the field decoded at 256 x 256, not its 28 x 28 decode blown up
    from explorer.core.pipeline import DecodePipeline

    pipeline = DecodePipeline(load_checkpoint(DEFAULT_CHECKPOINT))
    z = pipeline.ckpt.latents[:1].numpy()
    fine = np.clip(pipeline.signal(z, (256, 256))[0, ..., 0], 0, 1) * 255
    coarse = np.clip(pipeline.signal(z)[0, ..., 0], 0, 1) * 255
    blown_up = coarse[np.arange(256) * 28 // 256][:, np.arange(256) * 28 // 256]
    assert np.abs(first - fine).mean() < 1.5 < np.abs(first - blown_up).mean()


def test_mp4_and_contact_strip(tmp_path):
    import imageio_ffmpeg
    from PIL import Image

    run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "train-00000", "--to", "3", "--path", "geodesic",
            "--frames", "10", "--out", str(tmp_path / "p.mp4"))
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "p.mp4"))
    assert frames == 10
    run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "0", "--to", "3", "--frames", "6", "--out", str(tmp_path / "s.png"))
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (6 * 256, 256)  # each frame decoded at 256 x 256


def test_wav_crossfades_without_clicks_and_morphs(tmp_path):
    out = tmp_path / "a.wav"
    run_cli("export", str(NOTES), "--from", "0", "--to", "100", "--frames", "5", "--crossfade-ms", "50", "--out", str(out))
    wave, sr = soundfile.read(out)
    fade = int(0.05 * sr)
    assert sr == 16000 and len(wave) == 5 * 16000 - 4 * fade and soundfile.info(out).subtype == "PCM_16"
    # no click: inside an equal-power crossfade a·cos + b·sin moves by at most (cos + sin) <= sqrt(2) times
    # the clips' own largest step; a hard cut would jump by up to twice their amplitude
    from explorer.core.pipeline import DecodePipeline
    from explorer.core.bundle import build_path

    ckpt = load_checkpoint(NOTES)
    path, _ = build_path(ckpt, "lerp", 0, 100, 5)
    clips = DecodePipeline(ckpt).signal(path.latents)
    inner = max(np.abs(np.diff(c)).max() for c in clips)
    assert np.abs(np.diff(wave)).max() <= np.sqrt(2) * inner + 4 / 32768
    morph = tmp_path / "m.wav"
    run_cli("walk", str(NOTES), "--start", "3", "--steps", "6", "--morph", "--float", "--out", str(morph))
    wave, sr = soundfile.read(morph)
    assert len(wave) == round(7 / 12 * 16000) and soundfile.info(morph).subtype == "FLOAT"  # 7 frames at 12 fps


def test_a_morph_lasts_as_long_as_the_path_plays_and_keeps_the_pitch(tmp_path):
    from explorer.core.pipeline import DecodePipeline
    from explorer.modalities.audio_metrics import estimate_pitch, midi_of

    out = tmp_path / "morph.wav"
    run_cli("export", str(NOTES), "--from", "0", "--to", "100", "--frames", "24", "--fps", "8", "--morph",
            "--out", str(out))
    wave, sr = soundfile.read(out)
    assert len(wave) == 3 * 16000  # 24 frames at 8 fps: three seconds, not one clip
    # a note held for three seconds is stretched in time, not in pitch (a phase-vocoder stretch)
    ckpt = load_checkpoint(NOTES)
    pipeline = DecodePipeline(ckpt)
    z = ckpt.latents[5:6].numpy()
    clip = midi_of(estimate_pitch(pipeline.signal(z)[0]))
    held = pipeline.morph_wave(np.repeat(z, 2, axis=0), 3.0)
    heard = [midi_of(estimate_pitch(held[k : k + sr // 2])) for k in range(0, 5 * sr // 2, sr // 4)]
    assert len(held) == 3 * sr and abs(np.median(heard) - clip) < 0.5


def test_the_json_bundle_regenerates_the_same_latents(tmp_path):
    from explorer.core.bundle import regenerate
    from explorer.core.export import checkpoint_sha256

    out = tmp_path / "p.json"
    run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "0", "--to", "42", "--path", "geodesic", "--frames", "20",
            "--k", "8", "--out", str(out))
    bundle = json.loads(out.read_text())
    assert bundle["params"] == bundle["params"] | {"method": "geodesic", "from": 0, "to": 42, "frames": 20, "k": 8}
    assert len(bundle["latents"]) == 20 and len(bundle["map"]["xy"]) == 20
    assert {"off_manifold_mean", "smoothness_mean"} <= set(bundle["quality"]["total"])
    ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    again = regenerate(bundle, ckpt, checkpoint_sha256(DEFAULT_CHECKPOINT))
    assert np.array_equal(again.astype(np.float64), np.array(bundle["latents"]).astype(np.float32).astype(np.float64))
    walk = tmp_path / "w.json"
    run_cli("walk", str(DEFAULT_CHECKPOINT), "--start", "9", "--steps", "10", "--seed", "4", "--out", str(walk))
    b = json.loads(walk.read_text())
    assert np.allclose(regenerate(b, ckpt, checkpoint_sha256(DEFAULT_CHECKPOINT)), np.array(b["latents"]), atol=0)


def test_nothing_is_overwritten_or_left_half_written(tmp_path, monkeypatch):
    out = tmp_path / "p.gif"
    out.write_bytes(b"mine")
    proc = run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "0", "--to", "5", "--out", str(out), check=False)
    assert proc.returncode == 1 and "--force" in proc.stderr and out.read_bytes() == b"mine"
    proc = run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "0", "--to", "nope", "--out", str(tmp_path / "x.gif"),
                   check=False)
    assert proc.returncode == 1 and "no item is called 'nope'" in proc.stderr
    proc = run_cli("export", str(NOTES), "--from", "0", "--to", "1", "--out", str(tmp_path / "x.gif"), check=False)
    assert proc.returncode == 1 and "export .wav" in proc.stderr
    # cancel after two frames: no file, no temporary file
    from explorer.core.export import export_steps
    from explorer.core.pipeline import DecodePipeline

    ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    gen = export_steps(DecodePipeline(ckpt), ckpt.latents[:8].numpy(), tmp_path / "c.mp4")
    next(gen), next(gen)
    gen.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gif"]
    # a full disk while writing: a one-line error, the old file kept, no temporary left
    import errno
    import os

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    from explorer.core.export import export
    from explorer.errors import ExplorerError

    with pytest.raises(ExplorerError, match="No space left"):
        export(DecodePipeline(ckpt), ckpt.latents[:3].numpy(), out, force=True)
    with pytest.raises(ExplorerError, match="No space left"):
        export(DecodePipeline(ckpt), ckpt.latents[:3].numpy(), tmp_path / "d.mp4")
    assert out.read_bytes() == b"mine" and sorted(p.name for p in tmp_path.iterdir()) == ["p.gif"]


def test_shape_paths_export_as_closed_meshes_and_rendered_frames(tmp_path):
    import trimesh
    from PIL import Image

    shape = CHECKPOINT_DIR / "furniture.safetensors"
    out = tmp_path / "m.zip"
    run_cli("export", str(shape), "--from", "0", "--to", "1", "--frames", "3", "--resolution", "40", "--out", str(out))
    with zipfile.ZipFile(out) as z:
        names = sorted(z.namelist())
        assert names == ["frame-0000.ply", "frame-0001.ply", "frame-0002.ply"]
        for name in names:
            mesh = trimesh.load(z.open(name), file_type="ply", process=False)
            assert len(mesh.faces) > 100 and mesh.is_watertight and np.abs(mesh.vertices).max() <= 1.0
    run_cli("export", str(shape), "--from", "0", "--to", "1", "--frames", "3", "--resolution", "40",
            "--out", str(tmp_path / "m.gif"))
    with Image.open(tmp_path / "m.gif") as im:
        assert im.n_frames == 3 and im.size == (256, 256)
        for i in range(im.n_frames):
            im.seek(i)
            drawn = (np.asarray(im.convert("RGB")) < 200).any(-1)
            assert drawn.mean() > 0.01  # the shape is drawn, not a blank picture
            # the whole shape is in the frame on every frame: a white margin all round, nothing cut at an edge
            assert not drawn[:4].any() and not drawn[-4:].any() and not drawn[:, :4].any() and not drawn[:, -4:].any()


def test_audiovisual_mp4_carries_picture_and_sound(tmp_path):
    import imageio_ffmpeg

    av = CHECKPOINT_DIR / "av-notes.safetensors"
    out = tmp_path / "av.mp4"
    run_cli("export", str(av), "--from", "0", "--to", "30", "--frames", "8", "--fps", "8", "--out", str(out))
    meta = next(imageio_ffmpeg.read_frames(str(out)))
    assert meta["codec"] == "h264" and abs(meta["duration"] - 1.0) < 0.15
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 8
    # the sound track: ffmpeg decodes it back to samples
    import subprocess

    pcm = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(out), "-vn", "-f", "s16le",
                          "-ac", "1", "-ar", "16000", "-"], capture_output=True, check=True).stdout
    sound = np.frombuffer(pcm, np.int16)
    assert 0.9 * 16000 < len(sound) < 1.2 * 16000 and np.abs(sound).max() > 1000


def test_an_audiovisual_path_exports_as_a_json_bundle(tmp_path):
    # once "internal error: KeyError: None": the path's quality asked the decoder for an unnamed part
    av = str(CHECKPOINT_DIR / "av-notes.safetensors")
    for cmd, args in (("export", ["--from", "0", "--to", "5", "--frames", "4"]), ("walk", ["--start", "0", "--steps", "4"])):
        out = tmp_path / f"{cmd}.json"
        run_cli(cmd, av, *args, "--out", str(out))
        bundle = json.loads(out.read_text())
        assert bundle["quality"]["total"]["smoothness_mean"] > 0 and len(bundle["latents"]) >= 4


def test_a_second_writer_of_the_same_file_does_not_replace_the_first(tmp_path):
    from explorer.core.export import export_steps
    from explorer.core.pipeline import DecodePipeline
    from explorer.errors import ExplorerError

    ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    out = tmp_path / "p.gif"
    gen = export_steps(DecodePipeline(ckpt), ckpt.latents[:3].numpy(), out)
    next(gen)  # the name was free when the export started ...
    out.write_bytes(b"the other export")  # ... and another writer took it meanwhile
    with pytest.raises(ExplorerError, match="appeared while"):
        for _ in gen:
            pass
    assert out.read_bytes() == b"the other export" and [p.name for p in tmp_path.iterdir()] == ["p.gif"]
    list(export_steps(DecodePipeline(ckpt), ckpt.latents[:3].numpy(), out, force=True))  # --force replaces it
    assert out.read_bytes()[:6] == b"GIF89a"

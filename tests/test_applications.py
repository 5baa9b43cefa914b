"""GEM's applications from the command line: embedding, completion and cross-modal hallucination."""
import json

import numpy as np

from explorer.core.shipped import CHECKPOINT_DIR, DEFAULT_CHECKPOINT

from conftest import fashion_mnist_installed, run_cli


@fashion_mnist_installed
def test_embedding_a_held_out_image_fits_it_and_finds_its_neighbours(tmp_path):
    from PIL import Image

    from explorer.data.fashion_mnist import fashion_mnist_set

    test = fashion_mnist_set(None, 3).test()
    pixels = ((test.values[0, :, 0].reshape(28, 28) + 1) / 2 * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "boot.png")
    out = json.loads(run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "boot.png"), "--json", "--steps", "150",
                             "--out", str(tmp_path / "recon.png")).stdout)
    assert out["metrics"]["psnr"] > 18 and len(out["neighbours"]) == 5
    assert len(out["latent"]) == 256
    with Image.open(tmp_path / "recon.png") as im:
        assert im.size == (28, 28)


@fashion_mnist_installed
def test_a_dark_garment_on_white_is_embedded_as_its_negative_and_says_so(tmp_path):
    """A user's photo of a shoe on white paper: the opposite of Fashion-MNIST's light garments on black."""
    from PIL import Image

    from explorer.data.fashion_mnist import fashion_mnist_set

    test = fashion_mnist_set(None, 3).test()
    pixels = ((test.values[0, :, 0].reshape(28, 28) + 1) / 2 * 255).round().astype(np.uint8)
    Image.fromarray(255 - pixels).save(tmp_path / "shoe-on-paper.png")
    args = ("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "shoe-on-paper.png"), "--json", "--steps", "150")
    out = json.loads(run_cli(*args).stdout)
    assert out["notes"] and "negative" in out["notes"][0]
    assert out["metrics"]["psnr"] > 18  # as good as the garment itself (as it was: a grey square, ~7 dB)
    assert {n["labels"]["class"] for n in out["neighbours"]} & {"Ankle boot", "Sneaker", "Sandal"}
    kept = json.loads(run_cli(*args, "--invert", "no").stdout)
    assert not kept["notes"] and kept["metrics"]["psnr"] < out["metrics"]["psnr"] - 5
    text = run_cli(*args[:-3], "--steps", "20").stdout
    assert "note:" in text and any(c in text for c in ("Ankle boot", "Sneaker", "Sandal"))


def test_an_embedded_picture_says_what_was_done_to_fit_the_checkpoint(tmp_path):
    """A colour photo of another size, given to the grey 28 x 28 Fashion-MNIST model: turned grey and its middle
    square scaled down, and the result says both (it used to turn grey without a word)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray((rng.uniform(size=(48, 64, 3)) * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    notes = json.loads(run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "photo.png"), "--json",
                               "--steps", "5").stdout)["notes"]
    assert "photo.png is in colour and this checkpoint's pictures are grey: it was embedded in grey" in notes
    assert "photo.png is 64 x 48 pixels: its middle square was scaled to 28 x 28" in notes
    grey = (rng.uniform(size=(28, 28, 1)) * 255).astype(np.uint8).repeat(3, -1)  # grey, in an RGB file
    Image.fromarray(grey).save(tmp_path / "grey.png")
    assert not json.loads(run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "grey.png"), "--json",
                                  "--steps", "5").stdout)["notes"]


def test_embedding_a_sound_into_an_image_checkpoint_is_refused(tmp_path):
    import soundfile

    soundfile.write(tmp_path / "x.wav", np.zeros(1600), 16000)
    proc = run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "x.wav"), check=False)
    assert proc.returncode == 1 and "x.wav is a sound but this checkpoint is image" in proc.stderr
    (tmp_path / "x.txt").write_text("hello")
    proc = run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "x.txt"), check=False)
    assert proc.returncode == 1 and "not an image, sound or mesh" in proc.stderr
    (tmp_path / "text.png").write_text("hello")  # a picture's name on other contents: said in words, not as a class
    proc = run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "text.png"), check=False)
    assert proc.returncode == 1 and "text.png is not a picture that can be read" in proc.stderr
    assert "Error" not in proc.stderr.replace("latent-explorer: error:", "") and len(proc.stderr.strip().splitlines()) == 1


def test_embedding_a_note_lands_on_its_own_note_among_its_pitch_class(tmp_path):
    """A flute C4 rendered afresh is fitted next to the training item it was rendered as, closer to it than
    to any other note (the notes checkpoint holds 50 instruments at each pitch since 2026-12-05), among
    notes of its pitch class."""
    import shutil

    import pytest
    import soundfile

    from explorer.data.notes import render_notes

    if shutil.which("fluidsynth") is None:
        pytest.skip("Debian package fluidsynth is not installed (scripts/bootstrap.sh installs it)")
    clip = render_notes(73, [(60, 100)])[0]  # a flute C4, rendered afresh
    soundfile.write(tmp_path / "flute.wav", clip, 16000)
    out = json.loads(run_cli("embed", str(CHECKPOINT_DIR / "notes.safetensors"), str(tmp_path / "flute.wav"),
                             "--json", "--steps", "150").stdout)
    assert out["metrics"]["lsd"] < 12
    first, second = out["neighbours"][:2]
    assert first["name"] == "flute/C4-v100.wav" and first["distance"] < 0.75 * second["distance"]
    assert sum(n["labels"]["pitch"] % 12 == 0 for n in out["neighbours"]) >= 3  # Cs, in any octave


def test_completion_writes_k_different_fills_that_keep_the_visible_part(tmp_path):
    from PIL import Image

    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.pipeline import DecodePipeline

    ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    pixels = DecodePipeline(ckpt).signal(ckpt.latents[3:4].numpy())[0][..., 0]
    Image.fromarray((pixels * 255).round().astype(np.uint8)).save(tmp_path / "item.png")
    mask = np.zeros((28, 28), np.uint8)
    mask[:, 14:] = 255  # hide the right half
    Image.fromarray(mask).save(tmp_path / "mask.png")
    run_cli("complete", str(DEFAULT_CHECKPOINT), str(tmp_path / "item.png"), "--mask", str(tmp_path / "mask.png"),
            "--k", "3", "--steps", "100", "--out", str(tmp_path / "out"))
    outs = [np.asarray(Image.open(tmp_path / "out" / f"item-completion-{j}.png"), np.float32) / 255 for j in range(3)]
    assert (tmp_path / "out" / "item-visible.png").exists()
    for o in outs:  # the visible half is reproduced
        assert np.abs(o[:, :14] - pixels[:, :14]).mean() < 0.12
    assert max(np.abs(outs[0] - o)[:, 14:].mean() for o in outs[1:]) > 0.005  # different starts, different fills
    proc = run_cli("complete", str(DEFAULT_CHECKPOINT), str(tmp_path / "item.png"), "--mask", "everything",
                   "--out", str(tmp_path / "o2"), check=False)
    assert proc.returncode == 1 and "unknown mask" in proc.stderr


@fashion_mnist_installed
def test_completion_quality_is_measured_against_a_nearest_neighbour_baseline():
    out = json.loads(run_cli("eval", str(DEFAULT_CHECKPOINT), "--completion", "left-half", "--max-items", "2",
                             "--fit-steps", "30", "--k", "2", "--json").stdout)
    assert out["items"] == 2 and out["k"] == 2
    assert out["gem_psnr_best_of_k"] >= out["gem_psnr_first"] > 0 and out["nearest_neighbour_psnr"] > 0


def test_hallucination_is_counted_on_the_audiovisual_checkpoint(tmp_path):
    import shutil

    import pytest

    if shutil.which("fluidsynth") is None:
        pytest.skip("Debian package fluidsynth is not installed (scripts/bootstrap.sh installs it)")
    av = CHECKPOINT_DIR / "av-notes.safetensors"
    run_cli("data", "build", "av-notes", "--count", "1", "--out", str(tmp_path / "av"))  # the piano's 25 pairs
    out = json.loads(run_cli("eval", str(av), "--data", str(tmp_path / "av"), "--hallucination", "--max-items", "2",
                             "--fit-steps", "20", "--k", "2", "--json").stdout)
    assert out["items"] == 2 and 0 <= out["image_to_sound_pitch_match"] <= out["image_to_sound_pitch_match_any_of_k"] <= 1
    assert 0 <= out["sound_to_image_key_match"] <= out["sound_to_image_key_match_any_of_k"] <= 1


def test_hallucinate_writes_k_sounds_for_a_picture_and_k_pictures_for_a_sound(tmp_path):
    import soundfile
    from PIL import Image

    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.pipeline import DecodePipeline

    av = CHECKPOINT_DIR / "av-notes.safetensors"
    pipeline = DecodePipeline(load_checkpoint(av))
    picture = pipeline.signal(pipeline.ckpt.latents[:1].numpy(), part="image")[0][..., 0]
    Image.fromarray((picture * 255).round().astype(np.uint8)).save(tmp_path / "key.png")
    soundfile.write(tmp_path / "note.wav", pipeline.signal(pipeline.ckpt.latents[:1].numpy(), part="audio")[0], 16000)
    run_cli("hallucinate", str(av), str(tmp_path / "key.png"), "--k", "2", "--steps", "20", "--out", str(tmp_path / "s"))
    sounds = sorted((tmp_path / "s").iterdir())
    assert [p.name for p in sounds] == ["key-proposal-0.wav", "key-proposal-1.wav"]
    wave, rate = soundfile.read(sounds[0])
    assert rate == 16000 and wave.shape == (16000,)
    run_cli("hallucinate", str(av), str(tmp_path / "note.wav"), "--k", "2", "--steps", "20", "--out", str(tmp_path / "p"))
    with Image.open(tmp_path / "p" / "note-proposal-1.png") as im:
        assert im.size == (48, 48)
    bad = run_cli("hallucinate", str(DEFAULT_CHECKPOINT), str(tmp_path / "key.png"), "--out", str(tmp_path / "x"),
                  check=False)
    assert bad.returncode == 1 and "audio-visual" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_k_fits_start_near_a_first_fit_and_report_every_step():
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.complete import complete_steps
    from explorer.modalities.masks import preset_image_mask
    from explorer.core.pipeline import DecodePipeline

    pipeline = DecodePipeline(load_checkpoint(DEFAULT_CHECKPOINT))
    values = pipeline.values(pipeline.ckpt.latents[7:8].numpy())
    hidden = preset_image_mask("centre", 28, 28).reshape(-1)
    progress, snapshots = [], {}
    for p in complete_steps(pipeline, values, pipeline.plug.coords((28, 28)), hidden, k=3, steps=20, starts="nearest"):
        progress.append(p)
        snapshots[p.step] = p.latents.numpy().copy()  # the fit updates its latents in place
    assert [p.step for p in progress] == list(range(1, 21)) and {p.steps for p in progress} == {20}
    z = snapshots[20]
    assert z.shape == (3, 256) and len({tuple(np.round(row, 5)) for row in z}) == 3
    # after a quarter of the steps the K fits start from K different training latents (one step later: close by)
    bank = pipeline.ckpt.latents.numpy()
    d = np.linalg.norm(snapshots[6][:, None] - bank[None], axis=-1)
    assert (d.min(1) < 1.0).all() and len(set(d.argmin(1))) == 3


def test_complete_fills_a_sound_gap_and_a_cut_away_half_of_a_shape(tmp_path):
    import soundfile
    import trimesh

    from explorer.core.pipeline import DecodePipeline
    from explorer.models.checkpoint import load_checkpoint

    for name, file, mask in (("notes", "note.wav", "0.5:1"), ("furniture", "thing.ply", "x>0")):
        ckpt = load_checkpoint(CHECKPOINT_DIR / f"{name}.safetensors")
        pipeline = DecodePipeline(ckpt)
        pipeline.plug.write(tmp_path / file, pipeline.signal(ckpt.latents[5:6].numpy())[0])
        out = tmp_path / f"out-{name}"
        run_cli("complete", str(ckpt.path), str(tmp_path / file), "--mask", mask, "--k", "2", "--steps", "20",
                "--out", str(out))
        stem, suffix = file.split(".")
        written = sorted(p.name for p in out.iterdir())
        assert written == [f"{stem}-completion-0.{suffix}", f"{stem}-completion-1.{suffix}"]  # no "visible" file
        for p in out.iterdir():
            if suffix == "wav":
                wave, sr = soundfile.read(p)
                assert sr == 16000 and len(wave) == 16000 and np.abs(wave).max() > 0.01  # a sound, not silence
            else:
                mesh = trimesh.load(p, process=False)
                assert len(mesh.faces) > 100  # a surface
    proc = run_cli("complete", str(CHECKPOINT_DIR / "notes.safetensors"), str(tmp_path / "note.wav"), "--mask", "x>0",
                   "--out", str(tmp_path / "o3"), check=False)
    assert proc.returncode == 1 and "START:END" in proc.stderr  # a shape's mask given for a sound: said so

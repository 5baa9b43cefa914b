"""GEM's applications from the command line: embedding new signals."""
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
    assert len(out["latent"]) == 64
    with Image.open(tmp_path / "recon.png") as im:
        assert im.size == (28, 28)


def test_embedding_a_sound_into_an_image_checkpoint_is_refused(tmp_path):
    import soundfile

    soundfile.write(tmp_path / "x.wav", np.zeros(1600), 16000)
    proc = run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "x.wav"), check=False)
    assert proc.returncode == 1 and "x.wav is a sound but this checkpoint is image" in proc.stderr
    (tmp_path / "x.txt").write_text("hello")
    proc = run_cli("embed", str(DEFAULT_CHECKPOINT), str(tmp_path / "x.txt"), check=False)
    assert proc.returncode == 1 and "not an image, sound or mesh" in proc.stderr


def test_embedding_a_note_lands_among_its_instrument(tmp_path):
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
    assert sum(n["name"].startswith("flute/") for n in out["neighbours"]) >= 3

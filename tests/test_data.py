import gzip

import numpy as np
import pytest

from explorer.data import load_dataset
from explorer.data.dataset import hash_split
from explorer.data.sprites import render_sprite
from explorer.errors import ExplorerError

from conftest import fashion_mnist_installed, run_cli


def test_image_folder_resizes_keeps_names_and_folder_labels(image_folder):
    ds = load_dataset(str(image_folder), resolution=16)
    assert ds.values.shape == (24, 256, 3)
    assert ds.values.min() >= -1 and ds.values.max() <= 1
    assert ds.names[0] == "bar/item00.jpg" and set(ds.labels["folder"]) == {"bar", "disc"}
    assert 0 < ds.is_test.sum() < 24 or ds.is_test.sum() == 0
    again = load_dataset(str(image_folder), resolution=16)
    assert np.array_equal(ds.is_test, again.is_test)


def test_grey_folder_gives_one_channel_and_a_broken_file_is_named(tmp_path):
    from PIL import Image

    for i in range(3):
        Image.fromarray(np.full((9, 13), 40 * i, np.uint8)).save(tmp_path / f"g{i}.png")
    ds = load_dataset(str(tmp_path), resolution=8)
    assert ds.channels == 1 and ds.values.shape == (3, 64, 1)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(ExplorerError, match="broken.png"):
        load_dataset(str(tmp_path), resolution=8)


def test_missing_or_empty_data_is_a_clear_error(tmp_path):
    with pytest.raises(ExplorerError, match="neither a built-in dataset"):
        load_dataset(str(tmp_path / "nope"))
    with pytest.raises(ExplorerError, match="no PNG or JPEG"):
        load_dataset(str(tmp_path))


def test_sprites_store_their_generating_factors_and_render_at_any_resolution():
    ds = load_dataset("sprites", max_items=50, resolution=24)
    assert set(ds.labels) == {"x", "y", "scale", "rotation", "hue"}
    f = {k: ds.labels[k][7] for k in ds.labels}
    assert np.allclose((render_sprite(f, 24) * 2 - 1).reshape(-1, 3), ds.values[7])
    # the same sprite at 4x the resolution, averaged back down, is the same picture
    hi = render_sprite(f, 96).reshape(24, 4, 24, 4, 3).mean((1, 3))
    assert np.abs(hi - render_sprite(f, 24)).mean() < 0.02


def test_hash_split_is_deterministic_and_stable_when_items_are_added():
    names = [f"n{i}" for i in range(200)]
    flags = hash_split(names, 0.1)
    assert 5 < flags.sum() < 40
    more = hash_split(names + ["extra1", "extra2"], 0.1)
    assert np.array_equal(flags, more[:200])


@fashion_mnist_installed
def test_fashion_mnist_from_the_debian_package_keeps_classes_and_the_official_split():
    ds = load_dataset("fashion-mnist", max_items=100, max_test=20)
    assert ds.values.shape == (120, 784, 1)
    assert ds.is_test.sum() == 20 and not ds.is_test[:100].any()
    assert ds.names[0] == "train-00000" and ds.names[100] == "test-00000"
    assert ds.labels["class"][0] == "Ankle boot"  # the first training image of Fashion-MNIST
    assert len(set(ds.labels["class"])) == 10


def test_a_truncated_idx_file_is_reported(tmp_path, monkeypatch):
    from explorer.data import fashion_mnist

    header = bytes([0, 0, 8, 3]) + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(header + bytes(100))
    monkeypatch.setenv("LATENT_EXPLORER_FASHION_MNIST", str(tmp_path))
    with pytest.raises(ExplorerError, match="truncated"):
        fashion_mnist.load_fashion_mnist()


def test_data_build_writes_pngs_and_labels_that_train_reads_back(tmp_path):
    from conftest import run_cli

    out = tmp_path / "sprites"
    run_cli("data", "build", "sprites", "--out", str(out), "--count", "12", "--resolution", "20")
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(["built.json", "labels.csv"] + [f"sprite-{i:05d}.png" for i in range(12)])
    built = load_dataset("sprites", max_items=12, resolution=20)
    back = load_dataset(str(out), resolution=20)
    assert back.names == [f"{n}.png" for n in built.names]
    assert np.abs(back.values - built.values).max() <= 2 / 255 + 1e-6  # 8-bit PNG rounding only
    assert np.allclose(back.labels["rotation"], built.labels["rotation"])
    proc = run_cli("data", "build", "sprites", "--out", str(out), "--count", "3", check=False)
    assert proc.returncode == 1 and "not empty" in proc.stderr


def test_a_sprites_build_renders_as_it_writes_the_same_files_as_the_whole_set(tmp_path):
    """``data build sprites`` never holds the set: a sprite is rendered, written, and the next follows (any
    count in the memory of one image, Ctrl-C between two files), yet the folder is the one the in-memory set
    exports, byte for byte."""
    from explorer.data.export_folder import write_image_folder
    from explorer.data.sprites import sprites_set, write_sprites

    streamed = write_sprites(tmp_path / "streamed", n=40, resolution=12, seed=5)
    assert next(streamed) == 1 and [p.name for p in (tmp_path / "streamed").iterdir()] == ["sprite-00000.png"]
    assert list(streamed)[-1] == 40
    assert list(write_image_folder(sprites_set(n=40, resolution=12, seed=5), tmp_path / "whole"))[-1] == 40
    for name in sorted(p.name for p in (tmp_path / "whole").iterdir()):
        assert (tmp_path / "streamed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_a_checkpoints_missing_training_folder_is_named_with_what_to_do(tmp_path):
    import pytest

    from explorer.data import reload_dataset
    from explorer.errors import ExplorerError

    with pytest.raises(ExplorerError, match="not on this machine.*--data DIR"):
        reload_dataset({"spec": str(tmp_path / "gone")}, "shape")


def test_a_checkpoint_of_built_data_is_evaluated_anywhere_with_its_own_split(tmp_path):
    """A model card's numbers reproduce elsewhere: the built folder is rebuilt into the user cache
    when it is gone, and ``--data`` with the same items keeps the checkpoint's split by name."""
    import json
    import shutil

    from explorer.models.checkpoint import load_checkpoint

    built = tmp_path / "sprites"
    run_cli("data", "build", "sprites", "--count", "60", "--resolution", "16", "--out", str(built))
    assert json.loads((built / "built.json").read_text())["build"] == "sprites"
    assert not list(tmp_path.glob(".*building*"))  # built beside, renamed into place
    ckpt_path = tmp_path / "s.safetensors"
    run_cli("train", "--data", str(built), "--resolution", "16", "--preset", "tiny", "--steps", "5",
            "--out", str(ckpt_path))
    ckpt = load_checkpoint(ckpt_path)
    assert ckpt.data["build"]["build"] == "sprites"
    held_out = 60 - ckpt.n_items
    args = ("eval", str(ckpt_path), "--json", "--fit-steps", "2", "--max-items", "100")
    here = json.loads(run_cli(*args).stdout)
    assert here["train"]["n"] == ckpt.n_items and here["test"]["n"] == held_out

    copy = tmp_path / "elsewhere"
    shutil.copytree(built, copy)
    shutil.rmtree(built)
    cache = tmp_path / "cache"
    rebuilt = json.loads(run_cli(*args, env={"XDG_CACHE_HOME": str(cache)}).stdout)
    assert (cache / "latent-explorer" / "data").is_dir()
    assert rebuilt["train"] == here["train"]  # the same items decoded from the same latents
    assert rebuilt["test"]["n"] == held_out

    by_name = json.loads(run_cli(*args, "--data", str(copy)).stdout)
    assert by_name["train"] == here["train"] and by_name["test"]["n"] == held_out


def test_data_of_other_items_is_all_held_out(tmp_path, image_folder):
    import json

    out = tmp_path / "t.safetensors"
    run_cli("train", "--data", "sprites", "--max-items", "40", "--resolution", "16", "--preset", "tiny",
            "--steps", "5", "--out", str(out))
    result = json.loads(run_cli("eval", str(out), "--data", str(image_folder), "--json", "--fit-steps", "2",
                                "--max-items", "100").stdout)
    assert "train" not in result and result["test"]["n"] == 24

"""Folders too large for memory: decoded once by worker processes into a memory-mapped cache, and trained on
from that file without reading it into the process."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import write_image_folder
from explorer.errors import ExplorerError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "latent-explorer" / "decoded"


def test_a_streamed_folder_holds_the_same_pictures_its_training_items_a_view_of_the_cache(tmp_path, cache, monkeypatch):
    import explorer.io.decoded as decoded
    from explorer.data.image_folder import image_folder_set

    monkeypatch.setattr(decoded, "CHUNK", 8)  # five tasks for two worker processes

    folder = write_image_folder(tmp_path / "pics", n=40)
    plain = image_folder_set(folder, resolution=16, stream=False)
    seen = []
    streamed = image_folder_set(folder, resolution=16, stream=True, progress=lambda done, total: seen.append((done, total)))
    assert isinstance(streamed.values, np.memmap) and seen[-1] == (40, 40)
    assert sorted(streamed.names) == plain.names  # the same items, training items first
    order = [plain.names.index(n) for n in streamed.names]
    assert np.array_equal(streamed.values, plain.values[order])
    assert streamed.labels["folder"] == [plain.labels["folder"][i] for i in order]
    assert np.array_equal(streamed.is_test, plain.is_test[order]) and streamed.is_test.any()
    train = streamed.train()
    assert isinstance(train.values, np.memmap) and np.shares_memory(train.values, streamed.values)
    assert not train.is_test.any() and len(train.names) == (~plain.is_test).sum()
    # a second read is the cache's: no new file, no partial one
    files = sorted(cache.iterdir())
    again = image_folder_set(folder, resolution=16, stream=True)
    assert sorted(cache.iterdir()) == files and not any("partial" in f.name for f in files)
    assert np.array_equal(again.values, streamed.values)
    # a changed file is a new index: decoded again
    (folder / "bar" / "item00.jpg").touch()
    image_folder_set(folder, resolution=16, stream=True)
    assert len(list(cache.glob("*.npy"))) == 2


def test_a_file_that_does_not_decode_stops_the_build_in_one_line_and_leaves_no_partial_cache(tmp_path, cache, monkeypatch):
    import explorer.io.decoded as decoded
    from explorer.data.image_folder import image_folder_set

    monkeypatch.setattr(decoded, "CHUNK", 4)  # the bad file is a worker's

    folder = write_image_folder(tmp_path / "pics", n=12)
    (folder / "disc" / "item01.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 50)
    with pytest.raises(ExplorerError) as err:
        image_folder_set(folder, resolution=16, stream=True)
    assert "item01.png" in str(err.value) and "\n" not in str(err.value)
    assert not list(cache.glob("*.npy"))


def test_training_reads_a_streamed_set_from_its_file_without_copying_it(tmp_path, cache):
    from explorer.data.image_folder import image_folder_set
    from explorer.train.trainer import Trainer
    from explorer.train.config import preset

    ds = image_folder_set(write_image_folder(tmp_path / "pics", n=40), resolution=16, stream=True)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps = 60
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    values = trainer.parts[0].values
    assert values.data_ptr() == ds.values.ctypes.data  # the tensor is the memory-mapped file itself
    before = trainer.train_metrics()["mse"]
    for _ in trainer.run():
        pass
    assert trainer.train_metrics()["mse"] < 0.8 * before
    assert torch.isfinite(trainer.latents).all()


def _mapped_from(path, address: int) -> bool:
    """Whether ``address`` lies in a mapping of the file ``path`` in this process (``/proc/self/maps``)."""
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and fields[-1] == str(path):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if start <= address < end:
                    return True
    return False


def test_latents_are_memory_mapped_from_a_checkpoint_and_from_a_npy_file_not_copied(tmp_path):
    from explorer.core.plain_embeddings import read_latents
    from explorer.models.checkpoint import load_checkpoint, save_checkpoint
    from test_checkpoint import make_checkpoint

    path = tmp_path / "m.safetensors"
    made = make_checkpoint()
    save_checkpoint(made, path)
    ckpt = load_checkpoint(path)
    assert torch.equal(ckpt.latents, made.latents)
    assert _mapped_from(path.resolve(), ckpt.latents.data_ptr())
    ckpt.latents[0] += 1  # copy-on-write: the process's own change, never the file's
    assert torch.equal(load_checkpoint(path).latents, made.latents)

    z = np.random.default_rng(0).normal(size=(1000, 8)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    read = read_latents(tmp_path / "z.npy")
    assert np.array_equal(read, z) and _mapped_from((tmp_path / "z.npy").resolve(), read.ctypes.data)


def test_a_streamed_sound_folder_becomes_the_same_normalised_spectrograms_in_a_file(tmp_path, cache, monkeypatch):
    import explorer.io.decoded as decoded
    from explorer.data.audio_folder import audio_folder_set
    from explorer.modalities import get_modality
    from test_audio_data import write_clips

    monkeypatch.setattr(decoded, "CHUNK", 8)  # worker processes read the clips
    folder = write_clips(tmp_path / "clips", n=24)
    plain, streamed = audio_folder_set(folder, stream=False), audio_folder_set(folder, stream=True)
    assert isinstance(streamed.values, np.memmap)
    order = [plain.names.index(n) for n in streamed.names]
    assert np.allclose(streamed.values, plain.values[order], atol=1e-6)
    a, b = (get_modality("audio", {"target": "spectrogram"}) for _ in range(2))  # its norm fitted on training items
    fa, fb = a.prepare(plain), b.prepare(streamed)
    assert isinstance(fb.values, np.memmap) and fb.resolution == fa.resolution
    assert np.allclose(b.norm.mean, a.norm.mean, atol=1e-4) and np.allclose(b.norm.std, a.norm.std, rtol=1e-3)
    assert np.allclose(fb.values, fa.values[order], atol=1e-3)
    assert isinstance(fb.train().values, np.memmap)  # the training items: still a view of the file


def test_a_streamed_mesh_folder_is_sampled_by_workers_and_trains_from_the_file(tmp_path, cache, monkeypatch):
    import explorer.io.decoded as decoded
    from explorer.data.shapes import mesh_folder_set
    from explorer.modalities import get_modality
    from explorer.modalities.mesh_file import load_mesh
    from explorer.modalities.sdf import mesh_sdf
    from explorer.train.config import preset
    from explorer.train.trainer import Trainer
    from test_shapes import write_meshes

    monkeypatch.setattr(decoded, "CHUNK", 3)
    folder = write_meshes(tmp_path / "meshes", n=8)
    ds = mesh_folder_set(folder, points=512, stream=True)
    assert isinstance(ds.values, np.memmap) and ds.coords.shape == (8, 512, 3) and ds.values.shape == (8, 512, 1)
    assert np.array_equal(ds.coords[0, :256], ds.coords[5, :256])  # the shared uniform points come first
    for i in (0, 7):  # each row is its own mesh's signed distance at its own points
        assert np.allclose(ds.values[i, :, 0], mesh_sdf(ds.coords[i], *load_mesh(folder / ds.names[i])), atol=1e-4)
    model_cfg, cfg, _ = preset("tiny", 3, 1, plug=get_modality("shape"))
    cfg.steps = 30
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "s.safetensors")
    part = trainer.parts[0]
    assert part.values.data_ptr() == ds.values.ctypes.data  # strided views of the file, not copies
    assert part.item_coords.data_ptr() == ds.coords.ctypes.data
    losses = [p.losses["rec"] for p in trainer.run()]
    assert np.isfinite(losses).all() and np.mean(losses[-5:]) < np.mean(losses[:5])

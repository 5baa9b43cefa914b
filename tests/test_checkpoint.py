import errno
import json
import os
import struct

import pytest
import torch

from explorer.io.atomic import atomic_write_bytes
from explorer.models.checkpoint import SCHEMA_VERSION, Checkpoint, load_checkpoint, save_checkpoint
from explorer.errors import ExplorerError
from explorer.models import FieldConfig, build_model

from conftest import join_checkpoint, rewrite_metadata, run_cli, split_checkpoint


def make_checkpoint(n=5) -> Checkpoint:
    torch.manual_seed(0)
    cfg = FieldConfig(kind="hyper", latent_dim=4, hidden=8, layers=2, rank=2, hyper_hidden=8, hyper_layers=2)
    model = build_model(cfg)
    return Checkpoint(cfg, {"name": "image", "resolution": [4, 4], "channels": 1}, torch.randn(n, 4),
                      model.state_dict(), [f"item{i}" for i in range(n)], {"class": ["a", "b", "a", "b", "a"][:n]},
                      {"spec": "sprites"}, {"command": "latent-explorer train ...", "step": 3}, {"train_fit": {"psnr": 20.0}})


def test_round_trip_rebuilds_the_same_model_from_the_stored_config(tmp_path):
    ckpt = make_checkpoint()
    path = tmp_path / "m.safetensors"
    save_checkpoint(ckpt, path)
    back = load_checkpoint(path)
    assert back.names == ckpt.names and back.labels == ckpt.labels and back.model_config == ckpt.model_config
    assert back.train["command"] == "latent-explorer train ..." and back.metrics == ckpt.metrics
    assert torch.equal(back.latents, ckpt.latents)
    coords = torch.rand(7, 2)
    original = build_model(ckpt.model_config)
    original.load_state_dict(ckpt.state_dict)
    assert torch.equal(back.build_model()(back.latents, coords), original(ckpt.latents, coords))


def test_the_file_holds_no_pickle(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(make_checkpoint(), path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["latent_explorer"])
    assert meta["schema"] == SCHEMA_VERSION
    assert all(v["dtype"] in ("F32", "I64") for k, v in header.items() if k != "__metadata__")


def _error_of(path) -> str:
    with pytest.raises(ExplorerError) as info:
        load_checkpoint(path)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_a_torch_pickle_file_is_refused_without_being_unpickled(tmp_path):
    path = tmp_path / "model.pt"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    torch.save({"x": Boom()}, path)
    assert "pickle" in _error_of(path)
    assert not (tmp_path / "pwned").exists()
    import pickle

    legacy = tmp_path / "legacy.pkl"
    legacy.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    assert "pickle" in _error_of(legacy)


def test_truncated_corrupt_and_foreign_files_name_what_is_wrong(tmp_path):
    good = tmp_path / "m.safetensors"
    save_checkpoint(make_checkpoint(), good)
    raw = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(raw[: len(raw) - 100])
    assert "truncated" in _error_of(cut)
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(raw[:5])
    assert "truncated" in _error_of(tiny)
    noise = tmp_path / "noise.safetensors"
    noise.write_bytes(os.urandom(4096))
    assert "not a latent-explorer checkpoint" in _error_of(noise) or "truncated" in _error_of(noise)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    assert "not a latent-explorer checkpoint" in _error_of(foreign)
    assert "does not exist" in _error_of(tmp_path / "missing.safetensors")


def test_nan_latents_wrong_shapes_and_newer_schema_are_refused(tmp_path):
    ckpt = make_checkpoint()
    ckpt.latents[2, 1] = float("nan")
    save_checkpoint(ckpt, tmp_path / "nan.safetensors")
    assert "NaN" in _error_of(tmp_path / "nan.safetensors")

    ckpt = make_checkpoint()
    ckpt.latents = torch.randn(5, 3)  # config says 4
    save_checkpoint(ckpt, tmp_path / "shape.safetensors")
    assert "shape" in _error_of(tmp_path / "shape.safetensors")

    ckpt = make_checkpoint()
    key = next(iter(ckpt.state_dict))
    ckpt.state_dict = dict(ckpt.state_dict) | {key: torch.zeros(3, 3)}
    save_checkpoint(ckpt, tmp_path / "weights.safetensors")
    assert "but the stored config implies" in _error_of(tmp_path / "weights.safetensors")

    ckpt = make_checkpoint()
    path = tmp_path / "future.safetensors"
    save_checkpoint(ckpt, path)
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["latent_explorer"])
    meta["schema"] = SCHEMA_VERSION + 1
    save_file(load_file(path), path, metadata={"latent_explorer": json.dumps(meta)})
    assert "newer" in _error_of(path)


def test_cli_reports_a_bad_checkpoint_in_one_line_with_a_nonzero_exit(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 3)
    for cmd in (["info", str(bad)], ["eval", str(bad)]):
        proc = run_cli(*cmd, check=False)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and "bad.safetensors" in lines[0]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_checkpoint(make_checkpoint(), path)
    before = path.read_bytes()

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(ExplorerError, match="No space left on device"):
        atomic_write_bytes(path, b"new contents")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_written_files_get_the_usual_permissions(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(make_checkpoint(), path)
    old = os.umask(0o022)
    os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~old


@pytest.mark.parametrize("first_byte", [0x80, ord("P")])
def test_a_header_size_that_starts_like_a_pickle_or_zip_still_opens(tmp_path, first_byte):
    """The first byte of a safetensors file is its header size's low byte: 0x80 or 'P' must not look like pickle."""

    ckpt = make_checkpoint()
    path = tmp_path / "m.safetensors"
    for pad in range(600):  # grow the metadata until the header size's low byte is the one we want
        ckpt.train["pad"] = "x" * pad
        save_checkpoint(ckpt, path)
        if path.read_bytes()[0] == first_byte:
            break
    raw = path.read_bytes()
    assert raw[0] == first_byte
    back = load_checkpoint(path)
    assert torch.equal(back.latents, ckpt.latents)


def test_debug_shows_the_traceback_that_is_otherwise_hidden(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 3)
    assert "Traceback" not in run_cli("info", str(bad), check=False).stderr
    proc = run_cli("info", str(bad), "--debug", check=False)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "bad.safetensors" in proc.stderr


def test_peek_metadata_reads_the_header_only_and_names_bad_files(tmp_path, tiny_checkpoint):
    import pytest

    from explorer.models.checkpoint import load_checkpoint, peek_metadata
    from explorer.errors import ExplorerError

    meta = peek_metadata(tiny_checkpoint)
    assert meta["modality"] == load_checkpoint(tiny_checkpoint).modality
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ExplorerError, match="bad.safetensors"):
        peek_metadata(bad)


def test_eval_does_not_save_over_a_checkpoint_that_changed_since_it_was_read(tiny_checkpoint, tmp_path):
    """A training run's last save landed while an `eval --save` of its previous save was running: the
    older weights must not be written back over the newer ones."""
    import shutil

    import pytest

    from explorer.errors import ExplorerError
    from explorer.models.checkpoint import load_checkpoint, save_checkpoint, save_metrics

    path = tmp_path / "running.safetensors"
    shutil.copy(tiny_checkpoint, path)
    seen = load_checkpoint(path)
    newer = load_checkpoint(path)
    newer.latents = newer.latents + 1.0  # the run's final save, meanwhile
    save_checkpoint(newer, path)
    final = path.read_bytes()
    with pytest.raises(ExplorerError, match="changed while it was evaluated"):
        save_metrics(seen, "eval", {"test": {"psnr": 1.0}})
    assert path.read_bytes() == final  # nothing lost
    again = load_checkpoint(path)
    save_metrics(again, "eval", {"test": {"psnr": 2.0}})  # unchanged since read: saved
    assert load_checkpoint(path).metrics["eval"]["test"]["psnr"] == 2.0


def test_a_pipe_or_a_big_file_that_is_not_a_checkpoint_is_refused_from_its_first_bytes(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever
    proc = run_cli("info", str(fifo), check=False, timeout=120)
    assert proc.returncode == 1 and "not a regular file" in proc.stderr
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as f:  # 3 GB that are not a checkpoint (sparse: no disk used)
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1,      }")
        f.truncate(3 * 2**30)
    reads, real_open = [], open

    class Counting:  # the file as opened, counting the bytes read from it
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            data = self.f.read(n)
            reads.append(len(data))
            return data

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr("builtins.open", lambda file, *a, **k: Counting(real_open(file, *a, **k))
                        if str(file) == str(big) else real_open(file, *a, **k))
    with pytest.raises(ExplorerError, match="not a latent-explorer checkpoint"):
        load_checkpoint(big)
    assert sum(reads) < 1000  # its header was enough: the 3 GB were never read


def _with_metadata(path, out, change) -> str:
    """``path`` rewritten to ``out`` with its metadata changed by ``change(meta)``; the load error's text."""
    return _error_of(rewrite_metadata(path, out, change))


@pytest.mark.parametrize("change,expected", [
    (lambda m: m["model"].update(hidden=50000), "model config: hidden must be an integer from 1 to 4096, not 50000"),
    (lambda m: m["model"].update(hidden="8"), "model config: hidden must be an integer from 1 to 4096, not '8'"),
    (lambda m: m["model"].update(rank=2.0), "model config: rank must be an integer from 1 to 1024, not 2.0"),
    (lambda m: m["model"].update(omega0_first=float("nan")), "model config: omega0_first must be a number"),
    (lambda m: m.update(model=[1, 2]), "model config must be a JSON object, not [1, 2]"),
    (lambda m: m.pop("modality"), "metadata lacks 'modality'"),
    (lambda m: m["modality"].pop("resolution"), "modality lacks 'resolution'"),
    (lambda m: m["modality"].update(resolution=[-4, 4]), "modality: resolution must be an integer from 1"),
    (lambda m: m["modality"].update(resolution=[8192, 8192]), "modality: resolution [8192, 8192] has more than"),
    (lambda m: m.update(names=["a", "b"]), "latents have shape [5, 4], expected [2, 4]"),
    (lambda m: m.update(names=[1, 2, 3, 4, 5]), "names must all be texts"),
    (lambda m: m.update(labels={"class": [[1]] * 5}), "label 'class' has a value [1]"),
    (lambda m: m.update(labels=["class"]), "labels must be a JSON object"),
    (lambda m: m.update(train={"step": "3"}), "train: step must be an integer"),
    (lambda m: m.update(data={"max_items": 1e9}), "data: max_items must be an integer"),
    (lambda m: m.update(labels={"deep": json.loads("[" * 40 + "]" * 40)}), "metadata nests deeper than 32 levels"),
    (lambda m: m.update(schema=True), "schema must be an integer from 1"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_metadata_of_the_wrong_type_or_size_is_one_line_naming_the_field(tmp_path, change, expected):
    path = tmp_path / "m.safetensors"
    save_checkpoint(make_checkpoint(), path)
    message = _with_metadata(path, tmp_path / "bad.safetensors", change)
    assert expected in message and message.startswith(str(tmp_path / "bad.safetensors")), message


def test_json_nested_beyond_any_parser_is_refused(tmp_path):
    deep = "[" * 200_000 + "]" * 200_000  # Python's json gives up (RecursionError) long before this
    header = json.dumps({"__metadata__": {"latent_explorer": "X"}}).replace('"X"', json.dumps(deep)).encode()
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    assert "metadata is corrupt (nested too deeply)" in _error_of(path)
    header = b"{\"a\": " + b"[" * 200_000 + b"]" * 200_000 + b"}"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    assert "not a latent-explorer checkpoint (unreadable header)" in _error_of(path)


def test_a_tensor_whose_declared_size_its_bytes_do_not_back_is_refused_before_reading(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(make_checkpoint(), path)
    header, meta, body = split_checkpoint(path)
    header["latents"]["shape"] = [5_000_000_000, 4]  # 80 GB of latents claimed by a 20-byte entry
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(join_checkpoint(header, meta, body))
    assert "tensor 'latents' holds 80 bytes, but its shape [5000000000, 4] in F32 needs 80000000000" in _error_of(bad)


def test_a_checkpoint_larger_than_free_memory_is_refused_with_both_figures(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_checkpoint(make_checkpoint(), path)
    monkeypatch.setattr("explorer.io.memory.available_bytes", lambda: 1000)
    message = _error_of(path)
    assert "would need about 0.0 GB of memory; 0.0 GB is available" in message and str(path) in message


def test_weights_that_overflow_decode_nothing_and_say_so(tiny_checkpoint, image_folder, tmp_path):
    """Finite weights whose products overflow: eval reports no "psnr nan", export writes no black GIF."""
    ckpt = load_checkpoint(tiny_checkpoint)
    last = [k for k in ckpt.state_dict if k.endswith("weight")][-1]
    ckpt.state_dict = dict(ckpt.state_dict) | {last: ckpt.state_dict[last] * 3e38}
    path = tmp_path / "overflow.safetensors"
    save_checkpoint(ckpt, path)
    proc = run_cli("eval", str(path), "--data", str(image_folder), "--max-items", "3", "--fit-steps", "1", check=False)
    assert proc.returncode == 1 and "decodes NaN or infinite values" in proc.stderr and "nan" not in proc.stdout
    out = tmp_path / "x.gif"
    proc = run_cli("export", str(path), "--from", "0", "--to", "1", "--frames", "3", "--out", str(out), check=False)
    assert proc.returncode == 1 and "decodes NaN or infinite values" in proc.stderr and not out.exists()
    assert len(proc.stderr.strip().splitlines()) == 1


def test_latents_of_absurd_size_are_refused(tmp_path):
    ckpt = make_checkpoint()
    ckpt.latents = ckpt.latents.clone()
    ckpt.latents[2, 1] = 3e38  # one flipped exponent bit away from a trained value: its map would overflow
    save_checkpoint(ckpt, tmp_path / "big.safetensors")
    assert "a latent has a value of 3e+38" in _error_of(tmp_path / "big.safetensors")


def test_a_sound_that_overflows_once_turned_into_audio_is_refused_not_drawn_blank(tmp_path):
    """The field's values are finite, but its normalisation makes them overflow as a spectrogram: the
    decode says so (the app's banner) instead of handing the preview an empty sound."""
    from explorer.core.pipeline import DecodePipeline
    from explorer.core.shipped import CHECKPOINT_DIR

    def huge_mean(meta):
        norm = meta["modality"]["options"]["norm"]
        norm["mean"] = [1e6] * len(norm["mean"])

    bad = rewrite_metadata(CHECKPOINT_DIR / "notes.safetensors", tmp_path / "loud.safetensors", huge_mean)
    pipeline = DecodePipeline(load_checkpoint(bad))
    with pytest.raises(ExplorerError, match="decodes NaN or infinite values"):
        pipeline.signal(pipeline.ckpt.latents[:1].numpy())
    with pytest.raises(ExplorerError, match="decodes NaN or infinite values"):
        list(pipeline.stream(pipeline.ckpt.latents[:1].numpy()))

"""Nothing a file or a flag can do takes the app down: a bad output place, an absurd setting, a hostile or
unusual input file, an export larger than memory, an interrupted build. Each is one line on stderr,
exit status 1 (130 for Ctrl-C), no traceback, and nothing written."""
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from explorer.core.shipped import CHECKPOINT_DIR, DEFAULT_CHECKPOINT

from conftest import ROOT, default_signals, run_cli

CKPT = str(DEFAULT_CHECKPOINT)


def one_line_error(proc, *fragments: str) -> str:
    """The single stderr line of a refused command (exit status 1), which names each of ``fragments``."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and lines[0].startswith("latent-explorer")
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def write_png(path: Path, arr: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(arr).save(path)
    return path


def write_bomb_png(path: Path, side: int = 20_000) -> Path:
    """A genuine 1-bit PNG of ``side`` x ``side`` black pixels: 50 kB on disk, 400 million pixels decoded."""
    row = b"\0" + bytes((side + 7) // 8)  # filter byte, then the packed pixels
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(side)) + z.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def small_pictures(folder: Path, n: int = 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        write_png(folder / f"p{i}.png", (rng.random((12, 12)) * 255).astype(np.uint8))
    return folder


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


# --- where the output goes ------------------------------------------------------------------------

def output_commands(tmp_path: Path, place: str) -> list[list[str]]:
    """Every command that writes, with its output at ``place`` (a file name or a folder name)."""
    picture = str(small_pictures(tmp_path / "pictures", 1) / "p0.png")
    return [
        ["export", CKPT, "--from", "0", "--to", "1", "--frames", "2", "--out", f"{place}/x.gif"],
        ["walk", CKPT, "--start", "0", "--steps", "2", "--out", f"{place}/x.gif"],
        ["embed", CKPT, picture, "--steps", "1", "--out", f"{place}/x.png"],
        ["train", "--data", str(tmp_path / "pictures"), "--preset", "tiny", "--steps", "1", "--out", f"{place}/x.safetensors"],
        ["data", "build", "sprites", "--count", "2", "--out", f"{place}/built"],
        ["complete", CKPT, picture, "--mask", "centre", "--k", "1", "--steps", "1", "--out", f"{place}/completions"],
        ["hallucinate", str(CHECKPOINT_DIR / "av-notes.safetensors"), picture, "--k", "1", "--steps", "1", "--out", f"{place}/proposals"],
        ["eval", CKPT, "--sheet", f"{place}/sheet.png", "--max-items", "1", "--fit-steps", "1"],
    ]


@pytest.mark.parametrize("i", range(8), ids=["export", "walk", "embed", "train", "data build", "complete", "hallucinate", "eval --sheet"])
def test_an_output_whose_folder_is_a_file_is_refused_before_any_work(i, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    args = output_commands(tmp_path, str(blocker / "sub"))[i]
    before = files_under(tmp_path)
    t = time.monotonic()
    proc = run_cli(*args, check=False, timeout=120)
    one_line_error(proc, f"{blocker} is a file, not a folder")
    assert files_under(tmp_path) == before and blocker.read_text() == "mine"
    assert time.monotonic() - t < 60  # refused up front, not after the work


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's /sys, where nobody, root included, may create files")
@pytest.mark.parametrize("i", [0, 3, 4], ids=["export", "train", "data build"])
def test_an_output_in_a_place_nobody_may_write_is_refused_before_any_work(i, tmp_path):
    args = output_commands(tmp_path, "/sys/latent-explorer-test")[i]
    proc = run_cli(*args, check=False, timeout=120)
    one_line_error(proc, "cannot write in /sys")
    assert not Path("/sys/latent-explorer-test").exists()


def test_an_output_file_or_folder_that_is_the_wrong_kind_is_named(tmp_path):
    """Already refused before this issue: an existing folder as an export's file; newly, a file as the
    folder of ``data build`` and ``complete`` (an internal NotADirectoryError before)."""
    (tmp_path / "frames.gif").mkdir()
    proc = run_cli("export", CKPT, "--from", "0", "--to", "1", "--out", str(tmp_path / "frames.gif"), check=False)
    one_line_error(proc, "exists; add --force")
    proc = run_cli("export", CKPT, "--from", "0", "--to", "1", "--out", str(tmp_path / "frames.gif"), "--force", check=False)
    one_line_error(proc, "is a folder; give a file name")
    (tmp_path / "taken").write_text("mine")
    proc = run_cli("data", "build", "sprites", "--count", "2", "--out", str(tmp_path / "taken"), check=False)
    one_line_error(proc, "taken is a file, not a folder")
    picture = str(small_pictures(tmp_path / "pictures", 1) / "p0.png")
    proc = run_cli("complete", CKPT, picture, "--mask", "centre", "--k", "1", "--steps", "1",
                   "--out", str(tmp_path / "taken"), check=False)
    one_line_error(proc, "taken is a file, not a folder")
    assert (tmp_path / "taken").read_text() == "mine" and list((tmp_path / "frames.gif").iterdir()) == []


@pytest.mark.parametrize("name", ["x.unknown", "x.wav", "x"])
def test_embed_refuses_an_output_extension_it_would_not_write(name, tmp_path):
    picture = small_pictures(tmp_path / "pictures", 1) / "p0.png"
    proc = run_cli("embed", CKPT, str(picture), "--steps", "1", "--out", str(tmp_path / name), check=False)
    one_line_error(proc, "--out", "written as .png")
    assert not (tmp_path / name).exists()


def test_a_plug_writes_only_its_own_format(tmp_path):
    from explorer.errors import ExplorerError
    from explorer.modalities.image import ImageModality

    with pytest.raises(ExplorerError, match=r"written as \.png"):
        ImageModality().write(tmp_path / "x.jpg", np.zeros((4, 4, 1)))
    assert not (tmp_path / "x.jpg").exists()


# --- settings -------------------------------------------------------------------------------------

SETTINGS = [
    (["--set", "lr=-1"], "--set lr must be a number from 0 to 1"),
    (["--set", "lr=nan"], "--set lr must be a number"),
    (["--set", "steps=-3"], "--set steps must be an integer from 1"),
    (["--set", "latent_dim=1e8"], "latent_dim"),
    (["--set", "latent_dim=100000000"], "latent_dim must be an integer from 1 to 4096"),
    (["--set", "iso_quantile=2"], "--set iso_quantile"),
    (["--modality", "audiovisual", "--set", "audio.hidden=0"], "hidden must be an integer from 1"),
]


@pytest.mark.parametrize("args,message", SETTINGS, ids=[a[-1] for a, _ in SETTINGS])
def test_a_setting_out_of_range_or_of_the_wrong_type_is_refused_before_training(args, message, tmp_path, image_folder):
    out = tmp_path / "model.safetensors"
    proc = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--steps", "1", "--out", str(out), *args,
                   check=False, timeout=120)
    one_line_error(proc, message)
    assert list(tmp_path.iterdir()) == []


# --- input files ----------------------------------------------------------------------------------

def test_a_decompression_bomb_is_refused_by_embed_train_and_a_mask(tmp_path):
    bomb = write_bomb_png(tmp_path / "bomb.png")
    proc = run_cli("embed", CKPT, str(bomb), "--steps", "1", check=False, timeout=120)
    one_line_error(proc, str(bomb), "too large to read safely")

    folder = small_pictures(tmp_path / "data")
    write_bomb_png(folder / "zz-bomb.png")
    out = tmp_path / "model.safetensors"
    proc = run_cli("train", "--data", str(folder), "--preset", "tiny", "--steps", "1", "--out", str(out),
                   check=False, timeout=120)
    one_line_error(proc, "zz-bomb.png", "too large to read safely")
    assert not out.exists()

    proc = run_cli("complete", CKPT, str(folder / "p0.png"), "--mask", str(bomb), "--k", "1", "--steps", "1",
                   "--out", str(tmp_path / "completions"), check=False, timeout=120)
    one_line_error(proc, "--mask", "too large to read safely")
    assert not (tmp_path / "completions").exists()


def test_a_16_bit_png_is_scaled_by_its_depth(tmp_path):
    from explorer.data.image_folder import is_grey, load_image

    ramp = np.linspace(0, 1, 32 * 32).reshape(32, 32)
    deep = write_png(tmp_path / "deep.png", np.round(ramp * 65535).astype(np.uint16))
    plain = write_png(tmp_path / "plain.png", np.round(ramp * 255).astype(np.uint8))
    assert is_grey(deep)
    a, b = load_image(deep, 16, grey=True), load_image(plain, 16, grey=True)
    assert abs(a.mean() - 0.5) < 0.01  # was 0.99: every value above 255 of 65535 read as white
    assert np.abs(a - b).max() < 2 / 255
    rgb = load_image(deep, 16, grey=False)
    assert rgb.shape == (16, 16, 3) and np.allclose(rgb[..., 0], a[..., 0])


def test_a_ply_face_with_a_vertex_index_out_of_range_is_named(tmp_path):
    header = ("ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
              "element face 4\nproperty list uchar int vertex_indices\nend_header\n")
    corners = "0 0 0\n1 0 0\n0 1 0\n0 0 1\n"
    (tmp_path / "shapes").mkdir()
    (tmp_path / "shapes" / "a-good.ply").write_text(header + corners + "3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n")
    (tmp_path / "shapes" / "b-bad.ply").write_text(header + corners + "3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 99\n")
    out = tmp_path / "shape.safetensors"
    proc = run_cli("train", "--modality", "shape", "--data", str(tmp_path / "shapes"), "--preset", "tiny",
                   "--steps", "1", "--out", str(out), check=False, timeout=120)
    one_line_error(proc, "b-bad.ply", "vertex 99", "4 vertices")
    assert not out.exists()


def write_wav_header(path: Path, sample_rate: int, samples: int = 1000) -> Path:
    """A 16-bit mono WAV whose header claims ``sample_rate``."""
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2 % 2**32, 2, 16)
    data = np.zeros(samples, np.int16).tobytes()
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_a_sound_with_an_absurd_sample_rate_is_refused_not_resampled(tmp_path):
    """A prime rate near 10⁹ would ask the polyphase resampler for a filter of 2·10¹⁰ taps."""
    wav = write_wav_header(tmp_path / "odd.wav", 999_999_937)
    proc = run_cli("embed", str(CHECKPOINT_DIR / "notes.safetensors"), str(wav), "--steps", "1", check=False, timeout=120)
    one_line_error(proc, "odd.wav", "999999937 Hz")


def test_only_the_start_of_a_long_sound_is_read_and_it_is_the_same(tmp_path):
    import soundfile
    from scipy.signal import resample_poly

    from explorer.data.audio_folder import load_clip

    wave = np.random.default_rng(0).uniform(-0.5, 0.5, 44100 * 4).astype(np.float32)
    soundfile.write(tmp_path / "long.wav", wave, 44100, subtype="FLOAT")
    whole = resample_poly(wave, 160, 441).astype(np.float32)[:16000]
    assert np.array_equal(load_clip(tmp_path / "long.wav"), np.clip(whole, -1, 1))


# --- work larger than the machine -----------------------------------------------------------------

def test_an_export_larger_than_memory_is_refused_up_front_with_the_figure(tmp_path):
    from explorer.io.memory import available_bytes

    if available_bytes() > 90e9:
        pytest.skip("this machine has room for 10000 frames of 1024 x 1024 pixels")
    for args in (["export", CKPT, "--from", "0", "--to", "1", "--frames", "10000"],
                 ["walk", CKPT, "--start", "0", "--steps", "10000"]):  # refused before walking
        out = tmp_path / "big.gif"
        proc = run_cli(*args, "--resolution", "1024", "--out", str(out), check=False, timeout=60)
        one_line_error(proc, "10000 frames" if args[0] == "export" else "10001 frames", "GB of memory", "is available")
        assert not out.exists()


def test_a_shape_export_grid_beyond_the_largest_is_refused(tmp_path):
    out = tmp_path / "meshes.zip"
    proc = run_cli("export", str(CHECKPOINT_DIR / "furniture.safetensors"), "--from", "0", "--to", "1", "--frames", "2",
                   "--resolution", "1024", "--out", str(out), check=False, timeout=60)
    one_line_error(proc, "--resolution 1024", "at most 256")
    assert not out.exists()


# --- data build -----------------------------------------------------------------------------------

def test_a_leftover_of_a_killed_build_is_removed_and_the_build_works(tmp_path):
    dead = 2**22 + 12345  # above Linux's largest process id: no process has it
    leftover = tmp_path / f".built.building-{dead}"
    (leftover / "sub").mkdir(parents=True)
    (leftover / "sub" / "half.png").write_bytes(b"half")
    alive = tmp_path / f".built.building-{os.getpid()}"  # a process that still runs (this one): kept
    alive.mkdir()
    run_cli("data", "build", "sprites", "--count", "2", "--resolution", "8", "--out", str(tmp_path / "built"),
            process=True)  # another process than this one, whose leftover must stay
    assert not leftover.exists() and alive.exists()
    assert sorted(files_under(tmp_path / "built")) == ["built.json", "labels.csv", "sprite-00000.png", "sprite-00001.png"]


def test_an_interrupted_build_leaves_no_half_folder_and_a_rerun_works(tmp_path):
    out = tmp_path / "built"
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "data", "build", "sprites", "--count", "20000",
                             "--resolution", "8", "--out", str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)
    deadline = time.monotonic() + 120
    try:
        while not any(tmp_path.glob(".built.building-*/*.png")):  # files are being written
            assert proc.poll() is None and time.monotonic() < deadline, "the build never started writing"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and err.strip().splitlines() == ["latent-explorer: interrupted"], err
    assert list(tmp_path.iterdir()) == []
    run_cli("data", "build", "sprites", "--count", "2", "--resolution", "8", "--out", str(out))
    assert (out / "built.json").exists() and list(tmp_path.iterdir()) == [out]

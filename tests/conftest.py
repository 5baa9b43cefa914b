from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# The suite's workers share the cores (pytest-xdist, one per core up to four): each computes with its share of
# them, as do the commands it starts, rather than every worker's torch and OpenMP taking every core and spinning
# against each other. Set before anything imports torch; OMP_NUM_THREADS given by the caller wins.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0))
                                                      // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))))


def default_signals() -> None:
    """``preexec_fn`` of a child that is to be interrupted: the default dispositions a terminal gives. A suite
    started in the background (``cmd &``, as CI may be) inherits SIGINT ignored, an ignored signal stays
    ignored in every child, and Python then never turns a Ctrl-C into KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_cli(*args: str, check: bool = True, timeout: float | None = None, env: dict | None = None,
            process: bool = False) -> subprocess.CompletedProcess:
    """Run ``latent-explorer ARGS`` as a user would, capturing its output and exit status. It runs in this
    process (``explorer.cli.main``, as ``python -m explorer`` does, its output captured), which spares the
    seconds of starting Python and importing torch for each of the suite's hundred-odd commands. With
    ``env`` (extra variables, read when a process starts), a ``timeout`` (a command that must not hang)
    or ``process=True`` it runs in a fresh process."""
    if env is not None or timeout is not None or process:
        proc = subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=timeout or 600, env=os.environ | {"PYTHONUNBUFFERED": "1"} | (env or {}))
    else:
        proc = _run_in_process(list(args))
    if check and proc.returncode != 0:
        raise AssertionError(f"latent-explorer {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def run_packaging(script: str, out: Path, timeout: float) -> None:
    """``bash packaging/SCRIPT OUT`` with this interpreter, as a user builds what packaging/ describes (from a
    git checkout: the scripts build from the files git knows); fails with the end of its errors."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip(f"packaging/{script} builds from a git checkout")
    proc = subprocess.run(["bash", str(ROOT / "packaging" / script), str(out)], capture_output=True, text=True,
                          env=os.environ | {"PYTHON": sys.executable}, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _run_in_process(args: list[str]) -> subprocess.CompletedProcess:
    """``explorer.cli.main(args)`` with its output captured and what it changes for the process (the
    working folder, torch's threads, the SIGTERM handler) put back afterwards."""
    import contextlib
    import io
    import signal

    import torch

    from explorer.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd, threads, handler = os.getcwd(), torch.get_num_threads(), signal.getsignal(signal.SIGTERM)
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as e:  # argparse: --help, or a wrong argument
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.chdir(cwd)
        torch.set_num_threads(threads)
        signal.signal(signal.SIGTERM, handler)
    return subprocess.CompletedProcess(["latent-explorer", *args], code, out.getvalue(), err.getvalue())


def split_checkpoint(path: Path) -> tuple[dict, dict, bytes]:
    """A checkpoint file's safetensors header, its latent-explorer metadata and its tensor bytes."""
    import json
    import struct

    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    return header, json.loads(header["__metadata__"]["latent_explorer"]), raw[8 + n :]


def join_checkpoint(header: dict, meta, body: bytes) -> bytes:
    """The bytes of a checkpoint file with ``header``'s tensors, metadata ``meta`` and tensor bytes ``body``."""
    import json
    import struct

    h = json.dumps(dict(header) | {"__metadata__": {"latent_explorer": json.dumps(meta)}}).encode()
    return struct.pack("<Q", len(h)) + h + body


def rewrite_metadata(path: Path, out: Path, change) -> Path:
    """``path`` copied to ``out`` with its metadata changed in place by ``change(meta)``."""
    header, meta, body = split_checkpoint(path)
    change(meta)
    Path(out).write_bytes(join_checkpoint(header, meta, body))
    return Path(out)


def write_image_folder(folder: Path, n: int = 24, seed: int = 0) -> Path:
    """A folder of real PNG and JPEG files of mixed sizes and modes, in two class subfolders."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n):
        cls = "disc" if i % 2 else "bar"
        (folder / cls).mkdir(parents=True, exist_ok=True)
        h, w = (40 + 4 * (i % 3), 48)
        yy, xx = np.mgrid[0:h, 0:w]
        cx, cy = rng.uniform(12, w - 12), rng.uniform(12, h - 12)
        if cls == "disc":
            img = (((xx - cx) ** 2 + (yy - cy) ** 2) < rng.uniform(40, 120)).astype(np.float32)
        else:
            img = (np.abs(xx - cx) < rng.uniform(2, 6)).astype(np.float32)
        rgb = np.stack([img * rng.uniform(0.3, 1.0) for _ in range(3)], -1)
        arr = (rgb * 255).astype(np.uint8)
        ext = "png" if i % 3 else "jpg"
        Image.fromarray(arr).save(folder / cls / f"item{i:02d}.{ext}")
    return folder


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, image_folder) -> Path:
    """A checkpoint trained by the real command on the image folder (tiny preset, seconds)."""
    out = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    run_cli("train", "--data", str(image_folder), "--out", str(out), "--preset", "tiny", "--steps", "60",
            "--resolution", "16")
    return out


fashion_mnist_installed = pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists(),
    reason="Debian package dataset-fashion-mnist is not installed (scripts/bootstrap.sh installs it)",
)


def open_in(qtbot, w, path, timeout: int = 120_000) -> bool:
    """Open ``path`` in window ``w`` as File ▸ Open does (read in a worker) and wait until it has ended:
    True when it is the open checkpoint now, False when it was refused (the message in the banner)."""
    with qtbot.waitSignal(w.opened, timeout=timeout) as blocker:
        w.open_checkpoint(path)
    return blocker.args[0]


@pytest.fixture(scope="session")
def deepsdf_trained():
    """DeepSDF's decoder and codes, trained as DeepSDF trains them on six shapes (``deepsdf_reference``)."""
    import deepsdf_reference

    return deepsdf_reference.train()


@pytest.fixture(scope="session")
def deepsdf_experiment(tmp_path_factory, deepsdf_trained) -> Path:
    """A DeepSDF experiment folder in DeepSDF's layout, its split named relative to the folder above ``examples``."""
    import deepsdf_reference

    return deepsdf_reference.write(tmp_path_factory.mktemp("deepsdf"), *deepsdf_trained)


# Files that take minutes go to the workers first, longest first (as measured with --durations=0), so the suite
# does not end waiting on one of them started last: the bundle's build (PyInstaller) keeps one worker busy for
# about five minutes. scripts/bootstrap.sh passes --no-loadscope-reorder, so xdist keeps this order.
LONGEST_FIRST = ("test_bundle.py", "test_main_window.py", "test_navigation.py", "test_bad_inputs.py",
                 "test_train.py", "test_speed.py", "test_distributed.py", "test_gem_applications.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order

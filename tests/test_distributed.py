"""Training one model in two processes with ``torchrun`` (gloo on the CPU): every latent trained, the result
as good as one process with the same budget, states that resume with another number of processes, and Ctrl-C
that leaves a resumable state."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import torch

from conftest import ROOT, run_cli

TRAIN = ["train", "--data", "sprites", "--preset", "tiny", "--compile", "off"]


def torchrun(*args: str, processes: int = 2, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
           "-m", "explorer", *args]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    if popen:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True, **popen)
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_two_processes_train_every_latent_and_match_one_process(tmp_path):
    from explorer.models.checkpoint import load_checkpoint

    two = torchrun(*TRAIN, "--steps", "80", "--out", str(tmp_path / "two.safetensors"))
    assert two.returncode == 0, two.stderr[-3000:]
    assert "2 processes (gloo)" in two.stderr and two.stderr.count(f"saved {tmp_path}") == 1  # rank 0 alone speaks
    run_cli(*TRAIN, "--steps", "80", "--out", str(tmp_path / "one.safetensors"))
    ckpt = load_checkpoint(tmp_path / "two.safetensors")
    start = torch.randn(len(ckpt.names), ckpt.latents.shape[1], generator=torch.Generator().manual_seed(0)) * 0.01
    assert (ckpt.latents != start).any(1).all()  # every item's latent moved, whichever process owns it
    assert ckpt.train["step"] == 80
    scores = {}
    for name in ("one", "two"):
        out = run_cli("eval", str(tmp_path / f"{name}.safetensors"), "--json", "--max-items", "16", "--fit-steps", "50")
        scores[name] = json.loads(out.stdout)
    # the same budget (steps x global batch) gives a model as good, within the noise of a 80-step run
    assert abs(scores["two"]["train"]["psnr"] - scores["one"]["train"]["psnr"]) < 1.0
    assert abs(scores["two"]["test"]["psnr"] - scores["one"]["test"]["psnr"]) < 1.0


def test_a_state_resumes_with_another_number_of_processes(tmp_path):
    from explorer.models.checkpoint import load_checkpoint

    out = str(tmp_path / "m.safetensors")
    first = torchrun(*TRAIN, "--steps", "30", "--out", out)
    assert first.returncode == 0, first.stderr[-3000:]
    run_cli(*TRAIN, "--steps", "50", "--resume", "--out", out)  # two processes' state, one process
    assert load_checkpoint(out).train["step"] == 50
    again = torchrun(*TRAIN, "--steps", "70", "--resume", "--out", out)  # and back to two
    assert again.returncode == 0 and "resuming at step 50" in again.stderr, again.stderr[-3000:]
    ckpt = load_checkpoint(out)
    assert ckpt.train["step"] == 70 and torch.isfinite(ckpt.latents).all()


def test_ctrl_c_stops_every_process_at_a_step_and_leaves_a_state_that_resumes(tmp_path):
    from explorer.models.checkpoint import load_checkpoint
    from explorer.train.trainer import state_path

    out = tmp_path / "m.safetensors"
    run = torchrun(*TRAIN, "--steps", "1000000", "--save-every", "0", "--out", str(out), start_new_session=True)
    try:
        lines = []
        for line in run.stderr:  # wait until the run has saved once (--save-every 0: after every step)
            lines.append(line)
            if line.startswith("checkpoint saved at step"):
                break
        assert state_path(out).exists(), "".join(lines)
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends to torchrun and its processes
        rest = run.stderr.read()
        run.wait(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert "interrupted at step" in rest, rest[-3000:]
    step = load_checkpoint(out).train["step"]
    run_cli(*TRAIN, "--steps", str(step + 5), "--resume", "--out", str(out))
    assert load_checkpoint(out).train["step"] == step + 5

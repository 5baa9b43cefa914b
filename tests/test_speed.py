"""Precision (fp32 / bf16 mixed precision), torch.compile, threads and unattended training logs."""
import numpy as np
import pytest
import torch

from explorer.models.checkpoint import load_checkpoint
from explorer.errors import ExplorerError
from explorer.models import FieldConfig, build_model
from explorer.models.compiled import resolve_compile, why_not_compiled
from explorer.models.precision import autocast, cpu_has_fast_bf16, resolve_precision
from explorer.core.shipped import DEFAULT_CHECKPOINT
from explorer.io.progress import LogBar
from explorer.train.progress_log import ProgressLog
from explorer.train.config import preset
from explorer.train.trainer import Trainer, TrainProgress

from conftest import run_cli

has_compiler = pytest.mark.skipif(why_not_compiled("cpu") is not None, reason="no C++ compiler for torch.compile")


def test_auto_precision_follows_the_hardware_and_explicit_choices_stay():
    assert resolve_precision("auto", "cpu") == ("bf16" if cpu_has_fast_bf16() else "fp32")
    assert resolve_precision("fp32", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ExplorerError, match="unknown precision"):
        resolve_precision("fp8", "cpu")


@pytest.mark.parametrize("kind, in_dim, omega0", [("hyper", 2, 30.0), ("modulated", 2, 30.0), ("film", 1, 3000.0)])
def test_bf16_fields_return_float32_close_to_the_float32_field(kind, in_dim, omega0):
    """The waveform field's first layer (omega0 = 3000) stays float32: a bfloat16 phase would be noise."""
    torch.manual_seed(0)
    cfg = FieldConfig(kind=kind, in_dim=in_dim, out_dim=1, latent_dim=16, hidden=64, layers=3, omega0_first=omega0,
                      hyper_hidden=64)
    model = build_model(cfg)
    z = torch.randn(4, 16) * 0.5
    coords = torch.rand(300, in_dim) * 2 - 1
    with torch.no_grad():
        exact = model(z, coords)
        with autocast("bf16", "cpu"):
            fast = model(z, coords)
    assert fast.dtype == torch.float32 and exact.dtype == torch.float32
    err = (fast - exact).abs()
    assert err.mean() < 0.02 * exact.std() and err.max() < 0.2 * exact.std()
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_bf16_training_keeps_float32_weights_and_records_its_precision(image_folder, tmp_path):
    out = tmp_path / "bf.safetensors"
    proc = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "30",
                   "--precision", "bf16", "--threads", "1", "--out", str(out))
    assert "(bf16, eager, 1 threads)" in proc.stderr
    assert "do not win back the compile time" in proc.stderr or "running uncompiled" in proc.stderr
    ckpt = load_checkpoint(out)
    assert ckpt.train["precision"] == "bf16" and ckpt.train["compiled"] is False
    assert ckpt.latents.dtype == torch.float32 and all(v.dtype == torch.float32 for v in ckpt.state_dict.values())
    assert ckpt.metrics["train_fit"]["psnr"] > 5
    assert "(bf16)" in run_cli("info", str(out)).stdout
    # the same run in float32 learns as much: bf16 changes the arithmetic, not the training
    ref = tmp_path / "fp.safetensors"
    run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "30",
            "--precision", "fp32", "--out", str(ref))
    assert abs(load_checkpoint(ref).metrics["train_fit"]["psnr"] - ckpt.metrics["train_fit"]["psnr"]) < 0.5


def test_a_log_file_gets_one_plain_line_every_30_seconds():
    now = [0.0]
    log = ProgressLog(30.0, clock=lambda: now[0])
    lines = []
    for step in range(1, 101):
        now[0] += 1.0  # one step a second
        line = log.line(TrainProgress(step, 100, {"rec": 0.01, "lle": 0.02}, now[0], saved=step == 40))
        if line:
            lines.append(line)
    assert len(lines) == 4  # at 30, 60 and 90 s, and the last step
    assert lines[0].startswith("step 30/100") and "rec 0.01000" in lines[0] and "lle 0.02000" in lines[0]
    assert "1.00 steps/s" in lines[0] and "ETA 1m10s" in lines[0] and "not saved yet" in lines[0]
    assert "last save step 40 (20s ago)" in lines[1].replace("0m", "")
    assert lines[-1].startswith("step 100/100") and "ETA 0m00s" in lines[-1]
    # with a time budget that ends before the steps, the time left is the budget's
    log = ProgressLog(30.0, clock=lambda: now[0])
    now[0] += 30.0
    line = log.line(TrainProgress(30, 100_000, {"rec": 0.01}, 30.0, seconds_left=45.0))
    assert "ETA 0m45s" in line
    # in an L_LLE warm-up the steps go faster than they will: the time left counts the rest at their cost
    log = ProgressLog(30.0, clock=lambda: now[0])
    now[0] += 30.0
    line = log.line(TrainProgress(30, 100, {"rec": 0.01}, 30.0, work_left=10 + 2.0 * 60))  # warm-up ends at 40
    assert "1.00 steps/s" in line and "ETA 2m10s" in line


def test_the_time_left_counts_the_steps_after_an_lle_warm_up_at_their_own_cost(image_folder, tmp_path):
    from explorer.data import load_dataset

    dataset = load_dataset(str(image_folder), "image", resolution=16)
    model_cfg, train_cfg, _ = preset("tiny", 2, 3)
    train_cfg.steps, train_cfg.lle_warmup = 400, 100
    trainer = Trainer(dataset, model_cfg, train_cfg, tmp_path / "m.safetensors", compile=True)
    assert trainer.work_left() == 400  # not measured yet: every step alike
    trainer.warm_up()
    trainer.measure_lle_cost()
    assert trainer.lle_step_cost >= 1.0
    assert trainer.work_left() == pytest.approx(100 + trainer.lle_step_cost * 300)
    for _ in trainer.run():
        if trainer.step == 100:
            assert trainer.work_left() == 300  # with L_LLE on, the steps left are of the kind run now
            break


def test_train_writes_plain_lines_when_stderr_is_not_a_terminal(image_folder, tmp_path):
    proc = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "20",
                   "--out", str(tmp_path / "m.safetensors"))
    assert "\r" not in proc.stderr  # no progress-bar redraws in a log
    last = [line for line in proc.stderr.splitlines() if line.startswith("step 20/20")]
    assert last and "steps/s" in last[0] and "ETA" in last[0] and "rec " in last[0]


def test_long_work_in_a_log_says_how_far_it_is_every_30_seconds_and_that_it_ended():
    import io

    now, out = [0.0], io.StringIO()
    with LogBar(total=100, desc="building", unit="sprite", file=out, clock=lambda: now[0]) as bar:
        for _ in range(100):
            now[0] += 1.0  # one sprite a second
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("building: 30/100 sprites (30 %) in 0m30s, 1 sprite/s, about 1m10s left")
    assert len(lines) == 4 and lines[-1] == "building: 100/100 sprites (100 %) in 1m40s, 1 sprite/s"
    out = io.StringIO()
    with LogBar(total=1, desc="decoding", unit="part", file=out, clock=lambda: now[0]) as bar:
        now[0] += 100.0
        bar.update(1)  # done after more than 30 s: one line for the end, not two
    assert out.getvalue().splitlines() == ["decoding: 1/1 parts (100 %) in 1m40s, 0.01 part/s"]
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt), LogBar(total=5, desc="building", file=out, clock=lambda: now[0]):
        raise KeyboardInterrupt  # stopped: no line that reads like an ending
    assert out.getvalue() == ""


def test_data_build_and_export_write_plain_progress_lines_when_stderr_is_not_a_terminal(tmp_path):
    proc = run_cli("data", "build", "sprites", "--count", "12", "--resolution", "8", "--out", str(tmp_path / "s"))
    assert "\r" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert any(line.startswith("building: 12/12 ") for line in lines)
    proc = run_cli("export", str(DEFAULT_CHECKPOINT), "--from", "0", "--to", "1", "--frames", "3",
                   "--out", str(tmp_path / "p.gif"))
    assert "\r" not in proc.stderr and "exporting: 3/3 frames (100 %)" in proc.stderr


def test_compile_needs_a_compiler_and_auto_says_when_it_runs_uncompiled(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CXX", raising=False)
    assert "C++ compiler" in why_not_compiled("cpu")
    with pytest.raises(ExplorerError, match="--compile on: torch.compile cannot run here"):
        resolve_compile("on", "cpu")
    assert resolve_compile("auto", "cpu") == (False, "running uncompiled: no C++ compiler (install g++)")
    assert resolve_compile("off", "cpu") == (False, None)


@has_compiler
def test_compiled_training_reports_compile_time_apart_caches_kernels_and_learns_like_eager(image_folder, tmp_path):
    cache = tmp_path / "cache"
    common = ["train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "40",
              "--precision", "fp32"]
    proc = run_cli(*common, "--compile", "on", "--out", str(tmp_path / "c.safetensors"),
                   env={"XDG_CACHE_HOME": str(cache), "TORCHINDUCTOR_CACHE_DIR": ""})  # as on a user's machine
    assert "compiled in" in proc.stderr and "not counted in the training time" in proc.stderr
    assert any((cache / "latent-explorer" / "torch-compile").iterdir())  # kept for the next run
    compiled = load_checkpoint(tmp_path / "c.safetensors")
    assert compiled.train["compiled"] is True
    run_cli(*common, "--compile", "off", "--out", str(tmp_path / "e.safetensors"))
    eager = load_checkpoint(tmp_path / "e.safetensors")
    assert abs(compiled.metrics["train_fit"]["psnr"] - eager.metrics["train_fit"]["psnr"]) < 0.3
    assert torch.allclose(compiled.latents, eager.latents, atol=5e-3)


@has_compiler
def test_a_compiled_decoder_compiles_once_for_any_batch_and_resolution(tiny_checkpoint, tmp_path, monkeypatch):
    from torch._dynamo.utils import counters

    from explorer.core.pipeline import DecodePipeline

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    ckpt = load_checkpoint(tiny_checkpoint)
    exact = DecodePipeline(ckpt, device="cpu", precision="fp32", cache_items=0)
    fast = DecodePipeline(ckpt, device="cpu", precision="fp32", compile="on", cache_items=0)
    assert not fast.warm and fast.compiled
    assert torch.allclose(fast.values(ckpt.latents[:2].numpy()), exact.values(ckpt.latents[:2].numpy()))  # eager
    assert fast.warm_up() > 0 and fast.warm and fast.compiled and not fast.notes
    graphs = counters["stats"]["unique_graphs"]
    for b, r in ((1, 16), (5, 16), (3, 40), (1, 9), (12, 23)):
        z = ckpt.latents[:b].numpy() + 0.01
        assert torch.allclose(fast.values(z, (r, r)), exact.values(z, (r, r)), atol=1e-4)
    assert counters["stats"]["unique_graphs"] == graphs  # no request compiled again


@has_compiler
def test_every_checkpoint_opened_in_a_session_gets_a_compiled_decoder():
    """Each opening builds a new model whose ``forward`` torch compiles again, for its own shapes: the
    four shipped checkpoints opened one after another all compile (at torch's limit of 8 graphs the fourth
    decoded uncompiled while it said it was compiled)."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    from explorer.core.pipeline import DecodePipeline
    from explorer.core.shipped import CHECKPOINT_DIR

    torch._dynamo.reset()  # as a new session starts: what earlier tests compiled is not counted
    for name in ("fashion-mnist", "notes", "furniture", "av-notes"):
        pipeline = DecodePipeline(load_checkpoint(CHECKPOINT_DIR / f"{name}.safetensors"), device="cpu", compile="on")
        graphs = counters["stats"]["unique_graphs"]
        assert pipeline.warm_up() > 0 and pipeline.compiled
        assert counters["stats"]["unique_graphs"] > graphs, f"{name} decoded uncompiled"


def test_threads_must_be_positive(image_folder, tmp_path):
    proc = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--threads", "0",
                   "--out", str(tmp_path / "m.safetensors"), check=False)
    assert proc.returncode == 1 and "argument --threads: 0 is out of range: give 1 to 1024" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1  # one line, no usage dump


def test_decode_commands_take_precision(tiny_checkpoint, tmp_path):
    from PIL import Image

    out = tmp_path / "p.gif"
    run_cli("export", str(tiny_checkpoint), "--from", "0", "--to", "1", "--frames", "4", "--precision", "fp32",
            "--out", str(out))
    assert out.stat().st_size > 0
    image = tmp_path / "one.png"
    Image.fromarray((np.random.default_rng(0).uniform(size=(16, 16, 3)) * 255).astype(np.uint8)).save(image)
    result = run_cli("embed", str(tiny_checkpoint), str(image), "--steps", "5", "--precision", "bf16", "--json")
    assert '"psnr"' in result.stdout


def test_a_decoder_past_torch_graph_limit_says_it_is_uncompiled(tiny_checkpoint, monkeypatch):
    """Where torch would run a compiled function uncompiled without a word (its graph limit reached), the
    warm-up says so and the pipeline reports itself uncompiled; decoding still works."""
    import torch._dynamo

    from explorer.core.pipeline import DecodePipeline
    from explorer.models import compiled

    torch._dynamo.reset()
    monkeypatch.setattr(compiled, "GRAPHS_PER_COMPILE", 0)
    pipeline = DecodePipeline(load_checkpoint(tiny_checkpoint), device="cpu", compile="on")
    with torch._dynamo.config.patch(recompile_limit=1):  # the batch of one needs a second graph
        pipeline.warm_up()
    assert not pipeline.compiled
    assert any("decoding uncompiled" in note and "limit" in note for note in pipeline.notes), pipeline.notes
    assert torch.isfinite(pipeline.values(np.zeros((1, pipeline.ckpt.model_config.latent_dim)))).all()
    torch._dynamo.reset()


def test_the_graph_limit_grows_with_every_compiled_decoder():
    import torch._dynamo

    from explorer.models.compiled import GRAPHS_PER_COMPILE, compile_fn

    for _ in range(3):
        compile_fn(torch.nn.Linear(2, 2))
    assert torch._dynamo.config.recompile_limit >= 3 * GRAPHS_PER_COMPILE

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from explorer.models.checkpoint import load_checkpoint
from explorer.data import load_dataset
from explorer.modalities import get_modality
from explorer.errors import ExplorerError
from explorer.train.config import TrainConfig, preset
from explorer.train.fitting import run_fit
from explorer.models.compiled import why_not_compiled
from explorer.train.trainer import Trainer, state_path

from conftest import ROOT, default_signals, run_cli


def test_train_writes_a_checkpoint_that_info_and_eval_describe(tiny_checkpoint, image_folder):
    ckpt = load_checkpoint(tiny_checkpoint)
    assert ckpt.modality == {"name": "image", "resolution": [16, 16], "channels": 3}
    assert ckpt.n_items == len(load_dataset(str(image_folder), resolution=16).train().names)
    assert ckpt.train["command"].startswith("latent-explorer train --data")
    assert ckpt.train["config"]["lle"] and ckpt.train["config"]["iso"]
    info = json.loads(run_cli("info", str(tiny_checkpoint), "--json").stdout)
    assert info["latents"]["count"] == ckpt.n_items and info["modality"]["name"] == "image"
    assert "folder" in info["labels"] and info["metrics"]["train_fit"]["psnr"] > 0
    text = run_cli("info", str(tiny_checkpoint)).stdout
    assert "hyper field" in text and "command: latent-explorer train" in text
    result = json.loads(run_cli("eval", str(tiny_checkpoint), "--json", "--fit-steps", "20").stdout)
    assert result["train"]["n"] == ckpt.n_items and result["test"]["n"] >= 1
    for split in ("train", "test"):
        assert 0 < result[split]["mse"] < 1 and result[split]["psnr"] > 0


def test_training_data_with_nan_is_refused_by_item_before_a_step(image_folder, tmp_path):
    """NaN in the data once read as "training diverged at step 1 ... lower the learning rate" (furniture
    samples off faces of no area): now the item is named, before any step."""
    ds = load_dataset(str(image_folder), resolution=16)
    ds.values = ds.values.copy()
    ds.values[3, 5] = np.nan
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    with pytest.raises(ExplorerError, match=f"{ds.names[3]}.*NaN"):
        Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_training_reduces_the_reconstruction_error(image_folder, tmp_path):
    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps = 150
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    before = trainer.train_metrics()["mse"]
    losses = [p.losses["rec"] for p in trainer.run()]
    after = trainer.train_metrics()["mse"]
    assert after < 0.7 * before
    assert sum(losses[-10:]) < sum(losses[:10])


def test_same_command_gives_the_same_checkpoint_and_resume_continues_exactly(image_folder, tmp_path):
    common = ["--data", str(image_folder), "--preset", "tiny", "--resolution", "16"]
    first = run_cli("train", *common, "--out", str(tmp_path / "a.safetensors"), "--steps", "30")
    run_cli("train", *common, "--out", str(tmp_path / "b.safetensors"), "--steps", "30")
    a, b = load_checkpoint(tmp_path / "a.safetensors"), load_checkpoint(tmp_path / "b.safetensors")
    n_train, n_test = a.data["n_train"], a.data["n_test"]
    assert f"on {n_train} image signals of {image_folder} ({n_test} more held out for eval)" in first.stderr
    assert torch.equal(a.latents, b.latents)
    # 15 steps, then --resume to 30: identical to 30 steps in one go
    run_cli("train", *common, "--out", str(tmp_path / "c.safetensors"), "--steps", "15")
    proc = run_cli("train", *common, "--out", str(tmp_path / "c.safetensors"), "--steps", "30", "--resume")
    assert "resuming at step 15" in proc.stderr
    c = load_checkpoint(tmp_path / "c.safetensors")
    assert c.train["step"] == 30
    assert torch.allclose(c.latents, a.latents, atol=1e-6)
    for k in a.state_dict:
        assert torch.allclose(c.state_dict[k], a.state_dict[k], atol=1e-6), k


def _signal_at(cmd: list[str], line_start: str, sig=signal.SIGINT, env: dict | None = None) -> tuple[int, str]:
    """Run ``cmd``, send ``sig`` (as Ctrl-C or a kill would) once its stderr shows a line starting with
    ``line_start``; its exit status and the rest of its stderr."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=default_signals)
    try:
        for line in proc.stderr:
            if line.startswith(line_start):
                break
        proc.send_signal(sig)
        rest = proc.communicate(timeout=120)[1]
    finally:
        proc.kill()
    return proc.returncode, rest


def test_killed_training_keeps_its_checkpoint_and_resumes(image_folder, tmp_path):
    out = tmp_path / "k.safetensors"
    cmd = [sys.executable, "-m", "explorer", "train", "--data", str(image_folder), "--preset", "tiny",
           "--resolution", "16", "--steps", "1000000", "--save-every", "0", "--out", str(out)]
    # --save-every 0 writes after every step: wait for the state file, then interrupt like Ctrl-C
    code, rest = _signal_at(cmd, "checkpoint saved at step")
    assert code == 130
    assert "--resume" in rest
    saved = load_checkpoint(out)
    assert saved.train["step"] >= 1 and not saved.train["finished"]
    more = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--out", str(out),
                   "--steps", str(saved.train["step"] + 5), "--resume")
    assert f"resuming at step {saved.train['step']}" in more.stderr
    assert load_checkpoint(out).train["step"] == saved.train["step"] + 5


def test_ctrl_c_while_the_training_step_compiles_says_nothing_was_saved(image_folder, tmp_path):
    """Compiling comes before the first step (tens of seconds without cached kernels): a Ctrl-C there has
    nothing to save, and says so and what to do, instead of a bare "interrupted"."""
    out = tmp_path / "c.safetensors"
    env = os.environ | {"TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "kernels")}  # nothing cached: a long compile
    cmd = [sys.executable, "-m", "explorer", "train", "--data", str(image_folder), "--preset", "tiny",
           "--resolution", "16", "--steps", "1000000", "--compile", "on", "--out", str(out)]
    code, rest = _signal_at(cmd, "compiling the training step", env=env)
    assert code == 130 and "Traceback" not in rest, rest
    assert "interrupted while compiling the training step, before training: nothing was saved; run the same " \
           "command again" in rest
    assert not out.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_resumes_bit_identical_to_one_never_stopped(image_folder, tmp_path, sig):
    common = ["--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "300"]
    run_cli("train", *common, "--out", str(tmp_path / "ref.safetensors"))
    out = tmp_path / "i.safetensors"
    # --save-every 0: a save after every step; the signal lands anywhere in one
    code, rest = _signal_at([sys.executable, "-m", "explorer", "train", *common, "--save-every", "0", "--out", str(out)],
                            "checkpoint saved at step", sig)
    assert code == 130 and "interrupted at step" in rest and "Traceback" not in rest, rest
    stopped = load_checkpoint(out).train["step"]
    assert 1 <= stopped < 300
    assert f"resuming at step {stopped}" in run_cli("train", *common, "--out", str(out), "--resume").stderr
    ref, resumed = load_checkpoint(tmp_path / "ref.safetensors"), load_checkpoint(out)
    assert torch.equal(resumed.latents, ref.latents)
    assert all(torch.equal(resumed.state_dict[k], v) for k, v in ref.state_dict.items())


def test_a_run_killed_while_writing_its_checkpoint_or_state_always_resumes(image_folder, tmp_path):
    out = tmp_path / "w.safetensors"
    common = ["--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--out", str(out), "--compile", "off"]

    def writing(name):  # the temporary file of a write of ``name`` in progress (mkstemp: 8 random characters)
        return [p for p in tmp_path.glob(f".{name}.*.tmp") if len(p.name) == len(name) + 14]

    for target in (out.name, state_path(out).name):
        for _ in range(10):  # a small file is written in a blink: the kill may land just after it; try again
            cmd = [sys.executable, "-m", "explorer", "train", *common, "--steps", "100000", "--save-every", "0"]
            resume = ["--resume"] if out.exists() or state_path(out).exists() else []
            proc = subprocess.Popen(cmd + resume, cwd=ROOT, stderr=subprocess.DEVNULL)
            try:  # kill -9 the moment a temporary file of that write exists: in the middle of writing it
                while proc.poll() is None and not writing(target):
                    pass
                proc.kill()
                proc.wait()
            finally:
                proc.kill()
            inside = bool(writing(target))
            step = load_checkpoint(out).train["step"] if out.exists() else 0
            more = run_cli("train", *common, "--steps", str(step + 3), "--resume")
            assert "resuming at step" in more.stderr and "Traceback" not in more.stderr
            assert not list(tmp_path.glob(".*.tmp"))  # the killed write's leftovers are gone
            if inside:
                break
        assert inside, f"no kill landed inside a write of {target} in 10 tries"


def test_a_full_disk_between_the_state_and_the_checkpoint_leaves_a_run_that_resumes(image_folder, tmp_path, monkeypatch):
    import explorer.train.trainer as trainer_module

    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps = 8
    out = tmp_path / "f.safetensors"
    run = Trainer(ds, model_cfg, cfg, out).run()
    for _ in range(4):
        next(run)

    def full_disk(ckpt, path):
        raise ExplorerError(f"could not write {path}: No space left on device")

    monkeypatch.setattr(trainer_module, "save_checkpoint", full_disk)
    with pytest.raises(ExplorerError, match="No space left"):
        for _ in run:
            pass
    monkeypatch.undo()
    assert not out.exists() and state_path(out).exists()  # the state of step 8 was written, its checkpoint not
    resumed = Trainer(ds, model_cfg, cfg, out, resume=True)
    assert resumed.resumed and resumed.step == 8
    list(resumed.run())
    assert load_checkpoint(out).train["step"] == 8


def test_existing_output_is_never_overwritten_silently(tiny_checkpoint, image_folder):
    before = tiny_checkpoint.read_bytes()
    proc = run_cli("train", "--data", str(image_folder), "--out", str(tiny_checkpoint), "--preset", "tiny", check=False)
    assert proc.returncode == 1 and "--force" in proc.stderr and "Traceback" not in proc.stderr
    assert tiny_checkpoint.read_bytes() == before


def test_resume_with_other_settings_is_refused(image_folder, tmp_path):
    out = tmp_path / "r.safetensors"
    common = ["--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--out", str(out)]
    run_cli("train", *common, "--steps", "5")
    proc = run_cli("train", *common, "--steps", "10", "--no-lle", "--resume", check=False)
    assert proc.returncode == 1 and "other data or settings" in proc.stderr


def test_ablation_flags_are_recorded(image_folder, tmp_path):
    out = tmp_path / "rec.safetensors"
    run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "5",
            "--no-lle", "--no-iso", "--model", "modulated", "--out", str(out))
    ckpt = load_checkpoint(out)
    assert not ckpt.train["config"]["lle"] and not ckpt.train["config"]["iso"]
    assert ckpt.model_config.kind == "modulated"


def test_cuda_request_without_cuda_is_a_clear_error(image_folder, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--device", "cuda",
                   "--out", str(tmp_path / "x.safetensors"), check=False)
    assert proc.returncode == 1 and "--device cpu" in proc.stderr


def test_test_time_fitting_recovers_a_training_signal_and_respects_the_mask(tiny_checkpoint, image_folder):
    ckpt = load_checkpoint(tiny_checkpoint)
    model = ckpt.build_model()
    modality = get_modality("image")
    ds = load_dataset(str(image_folder), resolution=16).train()
    coords = modality.coords((16, 16))
    target = torch.from_numpy(ds.values[:4])
    stored = modality.metrics(model(ckpt.latents[:4], coords), target)["mse"]
    z = run_fit(model, ckpt.latents, target, coords, steps=150, lle=False, coords_per_signal=256)
    fitted = modality.metrics(model(z, coords), target)["mse"]
    assert fitted.mean() <= 1.5 * stored.mean()  # as good as auto-decoding found, within a margin
    assert all(p.requires_grad for p in model.parameters())  # fitting froze the network only while it ran
    # observe only the left half of a signal: the fit explains the left half better than the right
    left = (coords[:, 1] < 0)[None].expand(4, -1)
    z_half = run_fit(model, ckpt.latents, target, coords, mask=left, steps=150, coords_per_signal=64)
    err = (model(z_half, coords) - target).pow(2).mean(-1)
    assert err[left].mean() < err[~left].mean()


def test_every_size_can_be_set_from_the_command_line(image_folder, tmp_path):
    out = tmp_path / "s.safetensors"
    run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "3",
            "--set", "hidden=24", "--set", "rank=3", "--set", "omega0_first=12.5", "--set", "lle_k=3",
            "--set", "iso=false", "--out", str(out))
    ckpt = load_checkpoint(out)
    assert (ckpt.model_config.hidden, ckpt.model_config.rank, ckpt.model_config.omega0_first) == (24, 3, 12.5)
    assert ckpt.train["config"]["lle_k"] == 3 and ckpt.train["config"]["iso"] is False
    proc = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--set", "wings=2",
                   "--out", str(tmp_path / "x.safetensors"), check=False)
    assert proc.returncode == 1 and "unknown setting 'wings'" in proc.stderr


def test_eval_save_records_the_result_for_info(image_folder, tmp_path):
    out = tmp_path / "e.safetensors"
    run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps", "5", "--out", str(out))
    result = json.loads(run_cli("eval", str(out), "--json", "--fit-steps", "3", "--save").stdout)
    stored = load_checkpoint(out).metrics["eval"]
    assert stored["test"] == result["test"] and stored["command"].startswith("latent-explorer eval")
    text = run_cli("info", str(out)).stdout
    assert "eval:" in text and "test: mse" in text


def test_strided_sampling_takes_every_kth_sample_with_a_random_phase(image_folder, tmp_path):
    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.sampling, cfg.coords_per_signal = "strided", 64
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    pts = trainer._sample_points(8, 256)
    assert pts.shape == (8, 64)
    assert (pts.diff(dim=1) == 4).all() and (pts[:, 0] < 4).all()
    assert len(set(pts[:, 0].tolist())) > 1


def test_waveform_training_with_the_derivative_and_stft_losses_records_them(tmp_path):
    from test_audio_data import write_clips

    folder = write_clips(tmp_path / "clips", n=6)
    out = tmp_path / "a.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "audio", "--audio-target", "waveform", "--preset", "tiny",
            "--steps", "5", "--model", "film", "--set", "derivative_weight=1.0", "--set", "sampling=strided",
                   "--set", "stft_weight=0.5", "--out", str(out))
    ckpt = load_checkpoint(out)
    assert ckpt.train["config"]["derivative_weight"] == 1.0 and ckpt.model_config.kind == "film"
    assert ckpt.train["config"]["stft_weight"] == 0.5
    proc = run_cli("train", "--data", str(folder), "--modality", "audio", "--preset", "tiny", "--steps", "5",
                   "--set", "stft_weight=0.5", "--out", str(tmp_path / "b.safetensors"), check=False)
    assert proc.returncode == 1 and "needs sampling=strided" in proc.stderr


def test_a_run_from_before_a_new_config_field_still_resumes(image_folder, tmp_path):
    import json as _json

    from safetensors import safe_open
    from safetensors.torch import save_file

    out = tmp_path / "old.safetensors"
    common = ["--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--out", str(out)]
    run_cli("train", *common, "--steps", "4")
    sp = state_path(out)
    with safe_open(str(sp), "pt") as f:
        meta = _json.loads(f.metadata()["state"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    del meta["fingerprint"]["train"]["sampling"]  # as written by a version without that field
    del meta["fingerprint"]["model"]["pe_frequencies"]
    save_file(tensors, sp, metadata={"state": _json.dumps(meta)})
    proc = run_cli("train", *common, "--steps", "6", "--resume")
    assert "resuming at step 4" in proc.stderr


def test_lle_warmup_reconstructs_first_then_ramps_the_lle_loss_in(image_folder, tmp_path):
    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps, cfg.lle_warmup = 16, 4
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    seen = [(p.step, "lle" in p.losses, trainer.lle_scale()) for p in trainer.run()]
    assert [has for _, has, _ in seen[:4]] == [False] * 4  # steps 1-4: reconstruction (and isometry) only
    assert all(has for _, has, _ in seen[4:])  # from step 5 on, ramping up to full weight at step 8
    assert [round(scale, 2) for _, _, scale in seen[3:9]] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert trainer.lle_scale() == 1.0 and load_checkpoint(tmp_path / "m.safetensors").train["config"]["lle_warmup"] == 4


def test_cosine_schedule_lowers_both_learning_rates_to_lr_final(image_folder, tmp_path):
    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps, cfg.lr_schedule, cfg.lr_final = 9, "cosine", 0.1
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    rates = []
    for _ in trainer.run():
        rates.append([g["lr"] for g in trainer.opt.param_groups])
    assert rates[0] == [cfg.lr, cfg.latent_lr]  # the first step at full rate
    assert all(a[0] >= b[0] for a, b in zip(rates, rates[1:]))  # falling
    assert abs(rates[-1][0] - 0.1 * cfg.lr) < 1e-12 and abs(rates[-1][1] - 0.1 * cfg.latent_lr) < 1e-12
    with pytest.raises(ExplorerError, match="lr_schedule"):
        TrainConfig(lr_schedule="linear")


def test_a_time_budget_ends_the_run_settled_and_resume_with_a_larger_one_goes_on(image_folder, tmp_path):
    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps, cfg.minutes, cfg.lr_schedule, cfg.lr_final = 10_000, 0.5, "cosine", 0.1
    out = tmp_path / "m.safetensors"
    ticks = iter(range(10**9))
    trainer = Trainer(ds, model_cfg, cfg, out)
    trainer.clock = lambda: float(next(ticks))  # a second passes at every look at the clock
    progress = [(p, [g["lr"] for g in trainer.opt.param_groups]) for p in trainer.run()]
    last, rates = progress[-1]
    assert 5 < last.step < 30 and 30 <= last.seconds < 34  # stopped by the 30 s budget, not the 10 000 steps
    assert last.seconds_left == 0 and progress[0][0].seconds_left < 30
    assert abs(rates[0] - 0.1 * cfg.lr) < 1e-3 * cfg.lr and abs(rates[1] - 0.1 * cfg.latent_lr) < 1e-3 * cfg.latent_lr
    ckpt = load_checkpoint(out)
    assert ckpt.train["step"] == last.step and ckpt.train["finished"]
    # the same run with a budget of a minute goes on from where it stopped, to the new budget
    cfg.minutes = 1.0
    resumed = Trainer(ds, model_cfg, cfg, out, resume=True)
    resumed.clock = lambda: float(next(ticks))
    more = list(resumed.run())
    assert more[0].step == last.step + 1 and 60 <= more[-1].seconds < 64
    with pytest.raises(ExplorerError, match="minutes"):
        TrainConfig(minutes=-1)


def test_train_minutes_on_the_command_line_stops_on_time_and_says_so(image_folder, tmp_path):
    out = tmp_path / "t.safetensors"
    proc = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--resolution", "16", "--steps",
                   "1000000", "--minutes", "0.002", "--out", str(out))
    assert "stopping after 0.002 minutes of training or 1000000 steps" in proc.stderr
    assert "(the 0.002-minute budget)" in proc.stderr
    # a budget under three minutes is not spent compiling (where a compiler is there to compile with)
    assert "running uncompiled: " + ("0.002 minutes do not win back the compile time" if why_not_compiled("cpu")
                                     is None else why_not_compiled("cpu")) in proc.stderr
    ckpt = load_checkpoint(out)
    assert 1 <= ckpt.train["step"] < 1_000_000 and ckpt.train["config"]["minutes"] == 0.002
    bad = run_cli("train", "--data", str(image_folder), "--preset", "tiny", "--minutes", "0", "--out",
                  str(tmp_path / "u.safetensors"), check=False)
    assert bad.returncode != 0 and "--minutes" in bad.stderr and not (tmp_path / "u.safetensors").exists()


def test_eval_sheet_sets_real_items_above_their_decodes(tiny_checkpoint, tmp_path):
    import numpy as np
    from PIL import Image

    from explorer.core.contact_sheet import CELL, GAP, LABEL_W

    out = tmp_path / "sheet.png"
    run_cli("eval", str(tiny_checkpoint), "--sheet", str(out), "--max-items", "5", "--fit-steps", "3")
    sheet = np.asarray(Image.open(out).convert("RGB"), np.float32) / 255
    assert sheet.shape[0] == 4 * (CELL + GAP) + GAP  # training real/decoded, held-out real/fitted
    rows = [sheet[GAP + r * (CELL + GAP) : GAP + r * (CELL + GAP) + CELL, LABEL_W:] for r in range(4)]
    assert all(row.std() > 0.01 for row in rows)  # every row shows pictures, not blank paper


def test_each_modality_brings_its_preset_settings_and_the_command_line_overrides_them():
    from explorer.train.config import apply_setting

    image_model, image_train, _ = preset("base", 2, 1, get_modality("image"))
    assert image_model.omega0_first == 30 and image_model.latent_dim == 256 and image_train.lle_warmup == 1000
    shape_model, shape_train, shape_data = preset("base", 3, 1, get_modality("shape"))
    assert shape_model.omega0_first == 5 and shape_train.coords_per_signal == 1024 and shape_data["shell"] == 0.016
    assert "shell" not in preset("tiny", 3, 1, get_modality("shape"))[2] and "shell" not in image_train.to_dict()
    sound_model, sound_train, _ = preset("base", 2, 1, get_modality("audio", {"target": "spectrogram"}))
    assert sound_model.omega0_first == 90 and sound_train.steps == 20000 and sound_train.latent_lr == 1e-2
    assert sound_model.rank == 16 and image_model.rank == 8  # the notes' wider weight factors, theirs alone
    wave_model, _, _ = preset("base", 1, 1, get_modality("audio", {"target": "waveform"}))
    assert wave_model.omega0_first == 30  # nothing of the spectrogram's
    tiny_model, _, _ = preset("tiny", 3, 1, get_modality("shape"))
    assert tiny_model.omega0_first == 30  # tests stay tiny
    apply_setting("omega0_first=12", sound_model, sound_train)
    assert sound_model.omega0_first == 12
    from explorer.train.config import part_preset_settings

    av = get_modality("audiovisual", {"audio": {"target": "spectrogram"}})
    assert part_preset_settings("base", av) == {"audio": ["omega0_first=90.0"]}  # the sound part alone
    av_model, av_train, _ = preset("base", 2, 1, av)
    assert av_model.omega0_first == 30 and av_train.coords_per_signal == 1024


def test_a_short_run_gets_its_lle_warmup_cut_to_a_quarter(image_folder, tmp_path):
    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps, cfg.lle_warmup = 8, 1000
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    seen = ["lle" in p.losses for p in trainer.run()]
    assert seen[:2] == [False, False] and seen[-1]


def test_train_help_names_every_preset_with_its_cost_without_loading_torch():
    import subprocess
    import sys

    from explorer.train.config import PRESETS

    proc = subprocess.run([sys.executable, "-m", "explorer", "train", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    help_text = " ".join(proc.stdout.split())
    for name in PRESETS:
        assert f"{name}:" in help_text
    import re  # a name is never split at its hyphen over two lines ("audio-" / "waveform:")
    assert not [line for line in proc.stdout.splitlines() if re.search(r"\w-$", line)]
    check = subprocess.run([sys.executable, "-c", "import sys; from explorer.cli import build_parser; build_parser(); "
                            "print('torch' in sys.modules)"], capture_output=True, text=True)
    assert check.stdout.strip() == "False"
    version = subprocess.run([sys.executable, "-m", "explorer", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("latent-explorer 0.")
    top = subprocess.run([sys.executable, "-m", "explorer", "--help"], capture_output=True, text=True)
    assert "opens the desktop app" in " ".join(top.stdout.split())


def test_evaluation_reports_what_it_is_doing_step_by_step(tiny_checkpoint, image_folder):
    from explorer.models.checkpoint import load_checkpoint
    from explorer.train.evaluate import evaluate

    ckpt = load_checkpoint(tiny_checkpoint)
    data = load_dataset(str(image_folder), resolution=16).split_like(ckpt.names)
    heard = []
    result = evaluate(ckpt, data, fit_steps=7, report=lambda stage, done, total: heard.append((stage, done, total)))
    assert "train" in result and "test" in result
    stages = [h[0] for h in heard]
    assert stages[0] == "decoding" and stages[-1] == "measuring"
    assert [h[1] for h in heard if h[0] == "fitting"] == list(range(1, 8))  # every fitting step, of 7


def test_eval_progress_on_the_command_line_survives_a_pipe(tiny_checkpoint):
    from conftest import run_cli

    out = json.loads(run_cli("eval", str(tiny_checkpoint), "--json", "--fit-steps", "3", "--max-items", "4").stdout)
    assert out["test"]["fit_steps"] == 3  # no terminal: no bar, and no error either


def test_the_default_recipe_weighs_the_manifold_losses_as_measured():
    """``train`` without options (preset ``base``) weighs L_LLE and L_iso at 0.1, where images, sounds and shapes
    measured better (docs/recipe.md); the ablation's ``small`` keeps GEM's equal weights, audio-visual models
    keep them too (their hallucination measured worse at 0.1), and ``--set`` still decides."""
    from explorer.train.config import BASE_MANIFOLD_WEIGHT
    from explorer.train.recipe import make_recipe

    assert BASE_MANIFOLD_WEIGHT == 0.1
    for modality in ("image", "audio", "shape"):
        r = make_recipe("base", modality)
        assert (r.train.lle_weight, r.train.iso_weight) == (0.1, 0.1) and r.train.lle and r.train.iso
    assert make_recipe("small", "image").train.lle_weight == make_recipe("base", "audiovisual").train.lle_weight == 1.0
    assert make_recipe("base", "image", settings=["lle_weight=1", "iso_weight=1"]).train.iso_weight == 1.0


def test_a_recipe_is_built_and_checked_without_the_command_line():
    """A script builds a run as ``train`` does: the preset, the person's changes (one part's own setting,
    a data setting), every setting checked before any data is read."""
    from explorer.train.recipe import make_recipe

    r = make_recipe("base", "audiovisual", settings=["audio.hidden=64", "lle_weight=0.5"],
                    overrides={"steps": 10, "seed": None}, lle=False)
    assert r.train.steps == 10 and r.train.seed == 0 and r.train.lle_weight == 0.5 and not r.train.lle
    assert "hidden=64" in r.part_settings["audio"] and r.plug.parts["audio"].target == "spectrogram"
    for bad, words in ((["lr=-1"], "--set lr"), (["points=abc"], "points takes a whole number"),
                       (["audio.hidden=0"], "hidden")):
        with pytest.raises(ExplorerError, match=words):
            make_recipe("base", "audiovisual" if bad[0].startswith("audio.") else "shape", settings=bad)
    with pytest.raises(ExplorerError, match="--audio-target is for audio"):
        make_recipe("base", "image", audio_target="waveform")


def test_lle_at_a_fraction_of_the_coordinates_decodes_the_projections_at_fewer_points(image_folder, tmp_path):
    """``lle_coords``: the reconstruction still sees every sampled coordinate, the LLE projections a quarter
    of them, and the run trains and records the setting; 0 or more than 1 is refused with one line."""
    from explorer.train.recipe import make_recipe

    ds = load_dataset(str(image_folder), resolution=16)
    model_cfg, cfg, _ = preset("tiny", 2, 3)
    cfg.steps, cfg.coords_per_signal, cfg.lle_coords = 6, 64, 0.25
    trainer = Trainer(ds, model_cfg, cfg, tmp_path / "m.safetensors")
    field, shapes = trainer.fields[None], []
    trainer.fields[None] = lambda z, coords: shapes.append((len(z), coords.shape[1])) or field(z, coords)
    seen = [p.losses for p in trainer.run()]
    b = cfg.batch_size
    assert shapes[:2] == [(b, 64), (b, 16)]  # each step: the latents at 64 points, their projections at 16
    assert all("lle" in losses and np.isfinite(losses["lle"]) for losses in seen)
    assert load_checkpoint(tmp_path / "m.safetensors").train["config"]["lle_coords"] == 0.25
    for bad in ("lle_coords=0", "lle_coords=1.5"):
        with pytest.raises(ExplorerError, match="lle_coords"):
            make_recipe("tiny", "image", settings=[bad])

"""``latent-explorer train``: a GEM auto-decoder on a dataset, resumable."""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys

from explorer.errors import ExplorerError

from explorer.cli.common import check_out_file, count, number, seed_option, speed_options

def add_parser(sub) -> None:
    from explorer.train.preset_times import PRESET_TIMES

    t = sub.add_parser("train", help="train a GEM auto-decoder on a dataset",
                       description="Train an auto-decoder (one latent per signal) with GEM's losses.")
    t.add_argument("--data", required=True, metavar="SPEC", help="built-in dataset (fashion-mnist, sprites) or a folder")
    t.add_argument("--modality", default="image", choices=["image", "audio", "shape", "audiovisual"])
    t.add_argument("--audio-target", choices=["waveform", "spectrogram"], default=None,
                   help="what the audio field learns: the waveform (time -> amplitude) or GEM's log spectrogram "
                        "(frequency, time -> normalised log magnitude; heard through Griffin-Lim). Default: "
                        "spectrogram (measured better as sound: checkpoints/notes.md); --preset audio-waveform "
                        "means waveform")
    t.add_argument("--out", required=True, metavar="CKPT", help="checkpoint file to write (.safetensors)")
    t.add_argument("--preset", default="base", choices=list(PRESET_TIMES), metavar="PRESET",
                   help="model and training sizes, with their expected time. "
                        + ". ".join(f"{k}: {v}" for k, v in PRESET_TIMES.items()))
    t.add_argument("--steps", type=count(1, 10_000_000), help="optimisation steps (default: the preset's)")
    t.add_argument("--minutes", type=number(0, 1e6, lo_open=True), metavar="M",
                   help="train for at most M minutes of training time (compiling and reading the data not "
                        "counted), or --steps, whichever ends first; the learning rates' cosine follows the time "
                        "when it runs out first, so the run still ends settled. How many steps fit depends on "
                        "the machine and its load, so such a run is not repeatable bit for bit as a --steps run is; the "
                        "checkpoint records the steps")
    t.add_argument("--no-lle", action="store_true", help="train without GEM's LLE loss")
    t.add_argument("--no-iso", action="store_true", help="train without GEM's local isometry loss")
    speed_options(t, compile_default="auto")
    t.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    t.add_argument("--force", action="store_true", help="overwrite an existing --out checkpoint")
    t.add_argument("--model", dest="model_kind", choices=["hyper", "modulated", "film"], help="field architecture (default hyper)")
    t.add_argument("--activation", choices=["sine", "relu_pe"], help="field activation of the hyper model")
    t.add_argument("--max-items", type=count(1, 10_000_000), help="use at most N training items")
    t.add_argument("--max-test", type=count(1, 10_000_000), help="use at most N held-out items (fashion-mnist)")
    t.add_argument("--resolution", type=count(4, 1024), help="image side in pixels (folders, sprites)")
    t.add_argument("--batch-size", type=count(1, 65_536))
    seed_option(t, "random seed (default 0): the same command gives the same checkpoint", default=None)
    t.add_argument("--save-every", type=number(0, 1e7), metavar="SECONDS", help="seconds between checkpoint writes (default 120; 0: after every step)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any model or training setting, e.g. --set hidden=256 --set rank=16 --set lle_k=8; "
                        "PART.KEY=VALUE sets one part of an audiovisual model, e.g. --set audio.hidden=256 "
                        "(repeatable; see explorer/models/config.py and explorer/train/config.py)")
    t.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from pathlib import Path

    import torch

    from explorer.core.device import resolve_device
    from explorer.train.distributed import from_env
    from explorer.train.trainer import state_path

    out = Path(args.out)
    check_out_file(args.out)
    if out.exists() and not (args.resume or args.force):
        raise ExplorerError(f"{out} exists; add --resume to continue training it or --force to overwrite it")
    if state_path(out).exists() and not (args.resume or args.force):
        raise ExplorerError(f"{state_path(out)} holds a run that stopped before its first checkpoint; "
                            "add --resume to continue it or --force to start again")
    if out.exists() and out.is_dir():
        raise ExplorerError(f"--out {out} is a folder; give a file name such as {out / 'model.safetensors'}")
    device = resolve_device(args.device)
    group = from_env(device.type)  # under torchrun: one of several processes training one model
    if group is not None and device.type == "cuda":
        device = torch.device("cuda", group.local_rank)
        torch.cuda.set_device(device)
    if group is None:
        return _train(args, argv, out, device, group)[0]
    import torch.distributed as dist

    code, orderly = 1, False
    try:
        code, orderly = _train(args, argv, out, device, group)
    finally:
        if orderly:  # every process leaves together, after rank 0 has written (no peer vanishes mid-call)
            dist.barrier()
        dist.destroy_process_group()
    # The run is over and written. Leave now, without the interpreter's teardown: there, a process of a gloo
    # run sometimes aborted ("terminate called without an active exception", exit status -6) after a clean
    # finish, about one run in eight on a loaded machine, so torchrun reported the whole run as failed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _train(args, argv, out, device, group) -> tuple[int, bool]:
    """The run; its exit status, and whether it ended in step with the other processes (a save or the end)."""
    import torch
    from tqdm import tqdm

    from explorer.data import load_dataset
    from explorer.models import MultiFieldConfig
    from explorer.train.recipe import compile_choice, make_recipe
    from explorer.io.progress import duration
    from explorer.train.progress_log import ProgressLog, time_left
    from explorer.train.trainer import Trainer, state_path

    speak = group is None or group.leader  # one process of a multi-process run prints
    say = (lambda *a, **k: print(*a, **k)) if speak else (lambda *a, **k: None)
    recipe = make_recipe(args.preset, args.modality, audio_target=args.audio_target, settings=args.set,
                         overrides=dict(steps=args.steps, minutes=args.minutes, batch_size=args.batch_size, seed=args.seed,
                                        save_every_s=args.save_every, max_items=args.max_items,
                                        max_test=args.max_test),
                         model_kind=args.model_kind, activation=args.activation, lle=not args.no_lle,
                         iso=not args.no_iso)
    train_cfg, modality = recipe.train, recipe.plug
    dataset = load_dataset(args.data, args.modality, resolution=args.resolution, seed=train_cfg.seed, **recipe.data)
    model_cfg = recipe.model_config(dataset)
    configs = model_cfg.parts if isinstance(model_cfg, MultiFieldConfig) else {None: model_cfg}
    command = "latent-explorer " + shlex.join(argv)
    compiled, note = compile_choice(args.compile, device, train_cfg.steps, train_cfg.minutes)
    if note:
        say(note, file=sys.stderr)
    trainer = Trainer(dataset, model_cfg, train_cfg, out, device=device, command=command, resume=args.resume,
                      modality=modality, precision=args.precision, compile=compiled, group=group)
    n_train = len(trainer.train_set.names)
    losses = ("rec" + ("+lle" if train_cfg.lle else "") + ("+iso" if train_cfg.iso else ""))
    kind = "+".join(f"{k} {c.kind}" for k, c in model_cfg.parts.items()) if None not in configs else model_cfg.kind
    how = f"{trainer.precision}, {'compiled' if trainer.compiled else 'eager'}, {torch.get_num_threads()} threads"
    if group is not None:
        how += f"; {group.world} processes ({group.backend}), each optimising the latents of its own items"
    n_held = int(dataset.is_test.sum())
    held = f" ({n_held} more held out for eval)" if n_held else ""
    say(f"training {kind} field on {n_train} {args.modality} signals of {args.data}{held} "
          f"({losses}) on {device.type} ({how})" + (f", resuming at step {trainer.step}" if trainer.resumed else ""),
          file=sys.stderr)
    if train_cfg.minutes > 0:
        say(f"stopping after {train_cfg.minutes:g} minutes of training or {train_cfg.steps} steps, whichever "
            "comes first", file=sys.stderr)
    if args.resume and not trainer.resumed:
        say(f"nothing to resume at {out}: starting a new run", file=sys.stderr)
    for note in trainer.notes:
        say(note, file=sys.stderr)
    if trainer.compiled:
        try:
            _compile_trainer(trainer, args.compile, say)
        except KeyboardInterrupt:  # before the first step: no training to save
            kept = f"{out} still holds step {trainer.step}; " if trainer.resumed else "nothing was saved; "
            say(f"interrupted while compiling the training step, before training: {kept}run the same command "
                "again" + (" (with --resume)" if trainer.resumed else ""), file=sys.stderr)
            return 130, False
    trainer.measure_lle_cost()  # a step of each kind, timed: the time left is not half the truth in the warm-up
    terminal = sys.stderr.isatty()
    # the time left is ours (progress_log.time_left), not tqdm's: its "remaining" took the cheap steps of an
    # L_LLE warm-up for all of them and said half the run's time
    bar = tqdm(total=train_cfg.steps, initial=trainer.step, unit="step", dynamic_ncols=True, file=sys.stderr,
               disable=None if terminal and speak else True, mininterval=1.0,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]")
    log = None if terminal or not speak else ProgressLog(30.0, start_step=trainer.step)
    previous = _stop_on_signals(trainer, several=group is not None)
    try:
        for progress in trainer.run():
            bar.update(1)
            if progress.saved and speak:
                bar.write(f"checkpoint saved at step {progress.step}", file=sys.stderr)
            line = log.line(progress) if log is not None else None
            if line:
                print(line, file=sys.stderr, flush=True)
            if progress.step % 10 == 0 or progress.step == progress.steps:
                left = time_left(progress, bar.format_dict.get("rate"))
                bar.set_postfix({"left": duration(left) if left is not None else "?"}
                                | {k: f"{v:.4f}" for k, v in progress.losses.items()}, refresh=False)
    except KeyboardInterrupt:  # a second Ctrl-C: at once, without saving; the last save resumes
        bar.close()
        say("stopped at once; --resume continues from the last save", file=sys.stderr)
        return 130, False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if trainer.stopped:
        bar.close()
        say(f"interrupted at step {trainer.step}; saved {out}; continue with the same command and --resume",
              file=sys.stderr)
        return 130, True
    bar.close()
    tf = trainer.final_metrics
    extra = "".join(f", {_headline(m, k)}" for k, m in (tf.items() if None not in configs else [(None, tf)]))
    if trainer.step < train_cfg.steps and trainer.out_of_time():
        extra = f" (the {train_cfg.minutes:g}-minute budget){extra}"
    say(f"saved {out} after {trainer.step} steps in {trainer.seconds:.0f} s{extra} "
          f"(training state for --resume: {state_path(out).name})", file=sys.stderr)
    return 0, True


def _stop_on_signals(trainer, several: bool = False) -> dict:
    """Ctrl-C and SIGTERM end the run at the next step boundary, saved, so that ``--resume`` continues it
    exactly; a second one stops at once. Returns the handlers to restore. A signal that was ignored
    when the command started (``nohup``, a background job) stays ignored. ``several`` (a process of a
    torchrun run): torchrun answers the terminal's Ctrl-C with a SIGTERM to every process, which is not
    a second request; only a second Ctrl-C stops at once."""
    def handler(signum, frame):
        if trainer.stop_requested and several and signum == signal.SIGTERM:
            return
        if trainer.stop_requested:
            raise KeyboardInterrupt
        trainer.request_stop()
        # os.write, not print: the handler may run in the middle of a print to stderr (reentrant call)
        os.write(2, b"\nstopping after this step (Ctrl-C again to stop at once)\n")

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, handler)
    return previous


def _compile_trainer(trainer, mode: str, say=print) -> None:
    """Compile the training step before the first step, timed apart from training; a failing compiler
    means eager training (``--compile auto``) or one line (``--compile on``)."""
    from explorer.models.compiled import cache_dir

    say(f"compiling the training step (kernels cached in {cache_dir()} for later runs)", file=sys.stderr, flush=True)
    seconds = trainer.warm_up(strict=mode == "on")
    if trainer.compiled:
        say(f"compiled in {seconds:.1f} s (not counted in the training time)", file=sys.stderr, flush=True)
    else:
        say(trainer.notes[-1], file=sys.stderr)


def _headline(metrics: dict, part: str | None = None) -> str:
    """The one training metric a person reads first: PSNR for images, LSD for sound, SDF error for shapes."""
    name = f"{part} " if part else ""
    if "psnr" in metrics:
        return f"{name}train PSNR {metrics['psnr']:.2f} dB"
    if "lsd" in metrics:
        return f"{name}train LSD {metrics['lsd']:.2f} dB"
    if "sdf_l1" in metrics:
        return f"{name}train SDF L1 {metrics['sdf_l1']:.4f}"
    return f"{name}trained"

"""``latent-explorer``: one entry point with subcommands (DESIGN.md, "Command line")."""
from __future__ import annotations

import argparse
import io
import json
import shlex
import signal
import sys
import traceback

from explorer.errors import ExplorerError

STARTS_HELP = "starts of the K fits: the training latents nearest to a first fit (default) or random training latents"
AUTO_COMPILE_STEPS = 500
"""``train --compile auto`` compiles runs at least this long: compiling costs 5-30 s, a step saves ~10-50 ms."""
SUBCOMMANDS = ("train", "info", "eval", "data", "bench", "export", "walk", "embed", "complete", "hallucinate")


def _speed_options(p: argparse.ArgumentParser, compile_default: str = "off") -> None:
    """--precision, --compile and --threads: how fast the fields run (models.precision, models.compiled)."""
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="number format of the fields: bf16 (mixed precision: float32 weights, latents and losses) "
                        "where the CPU has avx512_bf16/AMX or the GPU supports it, else fp32 (default auto)")
    p.add_argument("--compile", choices=["auto", "on", "off"], default=compile_default,
                   help="torch.compile the fields where a C++ compiler (CPU) or Triton (CUDA) is present; the first "
                        "run compiles (seconds to a minute), later runs load the cached kernels; "
                        + ("auto compiles runs long enough to win that back" if compile_default == "auto"
                           else "worth it for long decodes") + f" (default {compile_default})")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: OMP_NUM_THREADS, else every core)")


def _pipeline(ckpt, args: argparse.Namespace):
    """The decode pipeline a command asked for (device, precision, compilation), its notes said once."""
    from explorer.core.pipeline import DecodePipeline

    pipeline = DecodePipeline(ckpt, device=args.device, precision=args.precision, compile=args.compile)
    if pipeline.compiled:
        print(f"compiled the decoder in {pipeline.warm_up():.1f} s", file=sys.stderr)
    for note in pipeline.notes:
        print(note, file=sys.stderr)
    return pipeline


def _parser() -> argparse.ArgumentParser:
    from explorer.train.preset_times import PRESET_TIMES

    p = argparse.ArgumentParser(
        prog="latent-explorer",
        description="Explore, train and evaluate neural-field manifolds (GEM auto-decoders). "
                    "Without a command it opens the desktop app: latent-explorer [CHECKPOINT] "
                    "(the shipped Fashion-MNIST model when none is given).",
        epilog="Add --debug to any command to see the full traceback of an error.",
    )
    from explorer import __version__

    p.add_argument("--version", action="version", version=f"latent-explorer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

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
    t.add_argument("--steps", type=int, help="optimisation steps (default: the preset's)")
    t.add_argument("--no-lle", action="store_true", help="train without GEM's LLE loss")
    t.add_argument("--no-iso", action="store_true", help="train without GEM's local isometry loss")
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    _speed_options(t, compile_default="auto")
    t.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    t.add_argument("--force", action="store_true", help="overwrite an existing --out checkpoint")
    t.add_argument("--model", dest="model_kind", choices=["hyper", "modulated", "film"], help="field architecture (default hyper)")
    t.add_argument("--activation", choices=["sine", "relu_pe"], help="field activation of the hyper model")
    t.add_argument("--max-items", type=int, help="use at most N training items")
    t.add_argument("--max-test", type=int, help="use at most N held-out items (fashion-mnist)")
    t.add_argument("--resolution", type=int, help="image side in pixels (folders, sprites)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--seed", type=int, help="random seed (default 0): the same command gives the same checkpoint")
    t.add_argument("--save-every", type=float, metavar="SECONDS", help="seconds between checkpoint writes (default 120)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any model or training setting, e.g. --set hidden=256 --set rank=16 --set lle_k=8; "
                        "PART.KEY=VALUE sets one part of an audiovisual model, e.g. --set audio.hidden=256 "
                        "(repeatable; see explorer/models/config.py and explorer/train/config.py)")

    i = sub.add_parser("info", help="describe a checkpoint", description="Modality, sizes, labels, training command, metrics.")
    i.add_argument("checkpoint", metavar="CKPT")
    i.add_argument("--json", action="store_true", help="machine-readable output")

    e = sub.add_parser("eval", help="reconstruction quality on training and held-out signals",
                       description="Train-set PSNR from the stored latents and held-out PSNR after test-time fitting.")
    e.add_argument("checkpoint", metavar="CKPT")
    e.add_argument("--data", metavar="SPEC", help="evaluate on data in another place: items the checkpoint was trained on are decoded, "
                   "the rest is held out (default: the checkpoint's own data, rebuilt into the cache if it was "
                   "made by 'data build')")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.add_argument("--max-items", type=int, help="items per split (default 200; --sheet: 16)")
    e.add_argument("--fit-steps", type=int, default=300, help="test-time fitting steps (default 300)")
    e.add_argument("--fit-loss", choices=["rec+lle", "rec"], default="rec+lle",
                   help="test-time fitting loss: GEM's L_rec + L_LLE (default; stays on the manifold) or L_rec alone")
    e.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    _speed_options(e)
    e.add_argument("--save", action="store_true", help="also record the result in the checkpoint's metrics (shown by info)")
    e.add_argument("--completion", metavar="MASK", choices=["left-half", "right-half", "top-half", "bottom-half", "centre"],
                   help="images: measure conditional completion on held-out images instead (hidden-part PSNR of GEM's "
                        "completions next to a nearest-neighbour baseline)")
    e.add_argument("--k", type=int, default=4, help="--completion/--hallucination: fits per item (default 4)")
    e.add_argument("--starts", choices=["nearest", "random"], default="nearest",
                   help="--completion/--hallucination: " + STARTS_HELP)
    e.add_argument("--paths", type=int, metavar="N",
                   help="compare straight and geodesic paths over N random pairs of training items: mean off-manifold "
                        "distance, interpolationMSE (to the nearest training signal), smoothness (RMS change between frames) "
                        "and, on sprites and superquadrics, the MSE to the true interpolation of the generating factors")
    e.add_argument("--sheet", metavar="PNG",
                   help="write a contact sheet instead: the first --max-items items of each split (16 by default) "
                        "above what the checkpoint makes of them (training items decoded, held-out items fitted; "
                        "sounds as spectrograms, shapes rendered)")
    e.add_argument("--hallucination", action="store_true",
                   help="audio-visual checkpoints on av-notes data: fit one part alone, decode the other, and count "
                        "how often the proposed partner matches (pitch of the sound, key in the picture)")

    bn = sub.add_parser("bench", help="time the interactions of the performance budget on this machine",
                        description="Decode, mesh, graph, geodesic and t-SNE timings (medians) next to their budgets "
                                    "from DESIGN.md, for the shipped checkpoints. Informational: never fails on speed.")
    bn.add_argument("--json", action="store_true", help="machine-readable output")
    bn.add_argument("--quick", action="store_true", help="few repeats and small sizes (seconds; for smoke tests)")

    def export_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", required=True, metavar="FILE",
                       help="the format follows the extension: .gif .mp4 .png (contact strip) .wav .zip (meshes) .json (bundle)")
        p.add_argument("--force", action="store_true", help="overwrite an existing file")
        p.add_argument("--resolution", type=int, help="image side or SDF grid to decode at (default: images 256 px or more on the long side, decoded at that size; shapes 64)")
        p.add_argument("--fps", type=float, default=12.0, help="frames per second of .gif/.mp4 (default 12)")
        p.add_argument("--loop", type=int, default=0, help=".gif: times to loop, 0 = for ever (default)")
        p.add_argument("--pingpong", action="store_true", help=".gif/.mp4: play forwards then backwards")
        p.add_argument("--crossfade-ms", type=float, default=50.0, help=".wav: equal-power crossfade between clips")
        p.add_argument("--morph", action="store_true", help=".wav: one sound whose latent moves along the path")
        p.add_argument("--float", dest="float_wav", action="store_true", help=".wav: 32-bit float instead of 16-bit PCM")
        p.add_argument("--mesh-format", choices=["ply", "obj"], default="ply", help=".zip: mesh file format")
        p.add_argument("--k", type=int, default=10, help="neighbours of the k-NN graph (default 10)")
        p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
        _speed_options(p)

    x = sub.add_parser("export", help="export the path between two items as GIF, MP4, PNG, WAV, meshes or JSON",
                       description="Decode the path from A to B (indices or names) and write it to a file.")
    x.add_argument("checkpoint", metavar="CKPT")
    x.add_argument("--from", dest="a", required=True, metavar="A")
    x.add_argument("--to", dest="b", required=True, metavar="B")
    x.add_argument("--path", choices=["lerp", "geodesic"], default="lerp", help="straight line or through the data")
    x.add_argument("--frames", type=int, default=32, help="frames along the path (default 32)")
    export_options(x)

    w = sub.add_parser("walk", help="export an LLE-region walk (GEM's sampling) from an item",
                       description="Walk the manifold's locally linear regions from A and write the samples to a file.")
    w.add_argument("checkpoint", metavar="CKPT")
    w.add_argument("--start", required=True, metavar="A")
    w.add_argument("--steps", type=int, default=32)
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--beta", type=float, default=0.1, help="noise, as a fraction of the typical neighbour spacing")
    export_options(w)

    em = sub.add_parser("embed", help="fit a latent for a new signal (image, sound or mesh file)",
                        description="Read FILE as the checkpoint's signal, fit a latent with the network frozen "
                                    "(GEM 4.4: L_rec + L_LLE), report the fit and the nearest training items.")
    em.add_argument("checkpoint", metavar="CKPT")
    em.add_argument("file", metavar="FILE")
    em.add_argument("--json", action="store_true")
    em.add_argument("--steps", type=int, default=300, help="fitting steps (default 300)")
    em.add_argument("--fit-loss", choices=["rec+lle", "rec"], default="rec+lle")
    em.add_argument("--out", metavar="FILE", help="also write the reconstruction (a file of the modality's format)")
    em.add_argument("--invert", choices=["auto", "yes", "no"], default="auto",
                    help="pictures: embed the negative (auto: when the background is the opposite of the "
                         "training pictures', e.g. a dark shoe on white for Fashion-MNIST)")
    em.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    _speed_options(em)

    cp = sub.add_parser("complete", help="fill in the hidden part of a signal, K ways",
                        description="Hide part of FILE with MASK and fit K latents on the visible part from different "
                                    "starts (GEM 4.4); write the K completions into DIR.")
    cp.add_argument("checkpoint", metavar="CKPT")
    cp.add_argument("file", metavar="FILE")
    cp.add_argument("--mask", required=True, metavar="MASK",
                    help="images: an image, white where hidden, or left-half|right-half|top-half|bottom-half|centre; "
                         "sounds: START:END in seconds; shapes: a half-space such as x>0")
    cp.add_argument("--k", type=int, default=4, help="completions (default 4)")
    cp.add_argument("--starts", choices=["nearest", "random"], default="nearest", help=STARTS_HELP)
    cp.add_argument("--steps", type=int, default=300)
    cp.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    cp.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    _speed_options(cp)

    hl = sub.add_parser("hallucinate", help="audio-visual checkpoints: K sounds for a picture, K pictures for a sound",
                        description="Fit K latents to FILE's modality alone from different starts (GEM 5.2, fig. 8) "
                                    "and write what each proposes for the other modality into DIR.")
    hl.add_argument("checkpoint", metavar="CKPT")
    hl.add_argument("file", metavar="FILE", help="an image (proposes sounds) or a sound (proposes pictures)")
    hl.add_argument("--k", type=int, default=4, help="proposals (default 4)")
    hl.add_argument("--starts", choices=["nearest", "random"], default="nearest", help=STARTS_HELP)
    hl.add_argument("--steps", type=int, default=300)
    hl.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    hl.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    _speed_options(hl)

    d = sub.add_parser("data", help="dataset builders", description="Build a dataset into a folder.")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    b = dsub.add_parser("build", help="write a built-in dataset as files",
                        description="Write a built-in image dataset as PNG files plus labels.csv "
                                    "(train on it later with --data DIR).")
    b.add_argument("name", choices=["fashion-mnist", "sprites", "notes", "furniture", "av-notes"],
                   help="notes: 1 s instrument notes rendered with fluidsynth (10 instruments x 25 pitches); "
                        "furniture: the Sweet Home 3D catalogue as PLY meshes; av-notes: each note with a "
                        "picture of its instrument and key (audio-visual pairs)")
    b.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    b.add_argument("--count", type=int, help="number of items (default: sprites 2000, fashion-mnist all; notes: instruments)")
    b.add_argument("--resolution", type=int, help="image side in pixels (sprites)")
    b.add_argument("--seed", type=int, default=0)
    return p


def _cmd_data(args: argparse.Namespace) -> int:
    from explorer.data.build import build

    units = []

    def consume(progress, unit, total):
        units.append(unit)
        return _show_build(progress, unit, total)

    count = build(args.name, args.out, args.count, args.resolution, args.seed, consume=consume)
    plural = units[0] + ("es" if units[0].endswith("sh") else "s")
    print(f"wrote {count} {plural} and labels.csv to {args.out}", file=sys.stderr)
    return 0


def _show_build(progress, unit: str, total: int | None) -> int:
    """Run a dataset build with a progress bar on stderr (``explorer.data.build``)."""
    from tqdm import tqdm

    from explorer.io.progress import run_to_end

    return run_to_end(tqdm(progress, total=total, unit=unit, file=sys.stderr, disable=None), "the build")


def _cmd_train(args: argparse.Namespace, argv: list[str]) -> int:
    from pathlib import Path

    from tqdm import tqdm

    import dataclasses

    import torch

    from explorer.core.device import resolve_device
    from explorer.data import load_dataset
    from explorer.modalities import get_modality, plug_parts
    from explorer.models import MultiFieldConfig
    from explorer.models.compiled import resolve_compile
    from explorer.train.config import DATA_SETTINGS, part_preset_settings, preset
    from explorer.train.progress_log import ProgressLog
    from explorer.train.trainer import Trainer, state_path

    out = Path(args.out)
    if out.exists() and not (args.resume or args.force):
        raise ExplorerError(f"{out} exists; add --resume to continue training it or --force to overwrite it")
    if out.exists() and out.is_dir():
        raise ExplorerError(f"--out {out} is a folder; give a file name such as {out / 'model.safetensors'}")
    modality = get_modality(args.modality, _modality_options(args))
    device = resolve_device(args.device)
    base_cfg, train_cfg, data_opts = preset(args.preset, 1, 1, modality)
    for name, value in (("steps", args.steps), ("batch_size", args.batch_size), ("seed", args.seed),
                        ("save_every_s", args.save_every)):
        if value is not None:
            setattr(train_cfg, name, value)
    train_cfg.lle = train_cfg.lle and not args.no_lle
    train_cfg.iso = train_cfg.iso and not args.no_iso
    parts = plug_parts(modality)
    given = part_preset_settings(args.preset, modality)
    part_settings = {key: list(given.get(key, [])) for key in parts}
    for item in args.set:
        key, dot, rest = item.partition(".")
        name, eq, value = item.partition("=")
        if dot and key in parts and key is not None and "=" in rest and "=" not in key:
            part_settings[key].append(rest)
        elif eq and name.strip() in DATA_SETTINGS:
            try:
                data_opts[name.strip()] = int(value)
            except ValueError:
                raise ExplorerError(f"--set {item}: {name.strip()} takes a whole number") from None
        else:
            apply_setting(item, base_cfg, train_cfg)
    if args.model_kind:
        base_cfg.kind = args.model_kind
    if args.activation:
        base_cfg.activation = args.activation
    for name in ("max_items", "max_test"):
        if getattr(args, name) is not None:
            data_opts[name] = getattr(args, name)
    dataset = load_dataset(args.data, args.modality, resolution=args.resolution, seed=train_cfg.seed, **data_opts)
    configs = {}
    for key, plug in parts.items():
        cfg = dataclasses.replace(base_cfg, in_dim=plug.in_dim,
                                  out_dim=(dataset if key is None else dataset.parts[key]).channels)
        for item in part_settings[key]:
            apply_setting(item, cfg)
        cfg.__post_init__()
        configs[key] = cfg
    model_cfg = configs[None] if None in configs else MultiFieldConfig(configs)
    train_cfg.__post_init__()
    command = "latent-explorer " + shlex.join(argv)
    compiled, note = resolve_compile(args.compile, device)
    if compiled and args.compile == "auto" and train_cfg.steps < AUTO_COMPILE_STEPS:
        compiled, note = False, (f"running uncompiled: {train_cfg.steps} steps do not win back the compile time "
                                 f"(auto compiles runs of {AUTO_COMPILE_STEPS}+ steps; --compile on to compile anyway)")
    if note:
        print(note, file=sys.stderr)
    trainer = Trainer(dataset, model_cfg, train_cfg, out, device=device, command=command, resume=args.resume,
                      modality=modality, precision=args.precision, compile=compiled)
    n_train = len(trainer.train_set.names)
    losses = ("rec" + ("+lle" if train_cfg.lle else "") + ("+iso" if train_cfg.iso else ""))
    kind = "+".join(f"{k} {c.kind}" for k, c in model_cfg.parts.items()) if None not in configs else model_cfg.kind
    how = f"{trainer.precision}, {'compiled' if trainer.compiled else 'eager'}, {torch.get_num_threads()} threads"
    print(f"training {kind} field on {n_train} {args.modality} signals of {args.data} "
          f"({losses}) on {device.type} ({how})" + (f", resuming at step {trainer.step}" if trainer.resumed else ""),
          file=sys.stderr)
    if args.resume and not trainer.resumed:
        print(f"nothing to resume at {out}: starting a new run", file=sys.stderr)
    for note in trainer.notes:
        print(note, file=sys.stderr)
    if trainer.compiled:
        _compile_trainer(trainer, args.compile)
    terminal = sys.stderr.isatty()
    bar = tqdm(total=train_cfg.steps, initial=trainer.step, unit="step", dynamic_ncols=True, file=sys.stderr,
               disable=None if terminal else True, mininterval=1.0)
    log = None if terminal else ProgressLog(30.0, start_step=trainer.step)
    try:
        for progress in trainer.run():
            bar.update(1)
            if progress.saved:
                bar.write(f"checkpoint saved at step {progress.step}", file=sys.stderr)
            line = log.line(progress) if log is not None else None
            if line:
                print(line, file=sys.stderr, flush=True)
            if progress.step % 10 == 0 or progress.step == progress.steps:
                bar.set_postfix({k: f"{v:.4f}" for k, v in progress.losses.items()}, refresh=False)
    except KeyboardInterrupt:
        bar.close()
        trainer.save()
        print(f"interrupted at step {trainer.step}; saved {out}; continue with the same command and --resume",
              file=sys.stderr)
        return 130
    bar.close()
    tf = trainer.final_metrics
    extra = "".join(f", {_headline(m, k)}" for k, m in (tf.items() if None not in configs else [(None, tf)]))
    print(f"saved {out} after {trainer.step} steps in {trainer.seconds:.0f} s{extra} "
          f"(training state for --resume: {state_path(out).name})", file=sys.stderr)
    return 0


def _compile_trainer(trainer, mode: str) -> None:
    """Compile the training step before the first step, timed apart from training; a failing compiler
    means eager training (``--compile auto``) or one line (``--compile on``)."""
    from explorer.models.compiled import cache_dir

    print(f"compiling the training step (kernels cached in {cache_dir()} for later runs)", file=sys.stderr, flush=True)
    seconds = trainer.warm_up(strict=mode == "on")
    if trainer.compiled:
        print(f"compiled in {seconds:.1f} s (not counted in the training time)", file=sys.stderr, flush=True)
    else:
        print(trainer.notes[-1], file=sys.stderr)


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


def _modality_options(args: argparse.Namespace) -> dict:
    if args.modality == "audio":
        default = "waveform" if args.preset == "audio-waveform" else "spectrogram"
        return {"target": args.audio_target or default}
    if args.modality == "audiovisual":
        return {"audio": {"target": args.audio_target or "spectrogram"}}
    if args.audio_target:
        raise ExplorerError(f"--audio-target is for audio and audiovisual models, not {args.modality}")
    return {}


def apply_setting(item: str, *configs) -> None:
    """``KEY=VALUE`` onto the first config with that field, converted to the field's type."""
    import dataclasses

    key, sep, raw = item.partition("=")
    key = key.strip().replace("-", "_")
    if not sep:
        raise ExplorerError(f"--set {item!r}: write KEY=VALUE, e.g. --set hidden=256")
    for cfg in configs:
        names = {f.name for f in dataclasses.fields(cfg)}
        if key in names:
            current = getattr(cfg, key)
            try:
                if isinstance(current, bool):
                    if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(raw)
                    value = raw.lower() in ("true", "1", "yes")
                else:
                    value = type(current)(raw)
            except ValueError:
                raise ExplorerError(f"--set {key}: {raw!r} is not a valid {type(current).__name__}") from None
            setattr(cfg, key, value)
            return
    known = sorted({f.name for cfg in configs for f in dataclasses.fields(cfg)})
    raise ExplorerError(f"--set: unknown setting {key!r}; known: {', '.join(known)}")


def _fmt_metrics(m: dict, indent: str = "  ") -> list[str]:
    """Nested metric dicts as indented lines; a dict of plain values on one line."""
    lines = []
    for key, vals in m.items():
        if isinstance(vals, dict) and any(isinstance(v, dict) for v in vals.values()):
            lines.append(f"{indent}{key}:")
            lines += _fmt_metrics(vals, indent + "  ")
        elif isinstance(vals, dict):
            parts = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in vals.items())
            lines.append(f"{indent}{key}: {parts}")
        else:
            lines.append(f"{indent}{key}: {vals}")
    return lines


def _cmd_info(args: argparse.Namespace) -> int:
    from explorer.models.checkpoint import load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    n_params = sum(v.numel() for v in ckpt.state_dict.values())
    info = {
        "path": str(ckpt.path),
        "modality": ckpt.modality,
        "model": ckpt.model_config.to_dict(),
        "parameters": n_params,
        "latents": {"count": ckpt.n_items, "dim": ckpt.model_config.latent_dim},
        "labels": {k: _label_summary(v) for k, v in ckpt.labels.items()},
        "data": ckpt.data,
        "train": {k: v for k, v in ckpt.train.items() if k != "config"} | {"config": ckpt.train.get("config", {})},
        "metrics": ckpt.metrics,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{ckpt.path}")
    mc = ckpt.model_config
    parts = ckpt.modality.get("parts")
    for key, info_ in (parts.items() if parts else [(None, ckpt.modality)]):
        res = "x".join(str(r) for r in info_.get("resolution", []))
        target = info_.get("options", {}).get("target")
        print(f"  {'modality' if key is None else ckpt.modality['name'] + ' part ' + key}: {info_['name']} {res}, "
              f"{info_.get('channels', '?')} channel(s)" + (f", {target} field" if target else ""))
    for key, c in (mc.parts.items() if parts else [(None, mc)]):
        print(f"  {'model' if key is None else key + ' field'}: {c.kind} field, {c.layers} x {c.hidden} "
              f"{c.activation if c.kind == 'hyper' else 'sine'}")
    print(f"  latent dim {mc.latent_dim}, {n_params / 1e6:.2f} M parameters")
    print(f"  latents: {ckpt.n_items} training items; data {ckpt.data.get('spec', '?')} "
          f"({ckpt.data.get('n_test', 0)} held out)")
    for k, v in info["labels"].items():
        print(f"  label {k}: {v}")
    t = ckpt.train
    how = f" ({t['precision']}{', compiled' if t.get('compiled') else ''})" if t.get("precision") else ""
    print(f"  trained: {t.get('step', '?')} steps in {t.get('seconds', '?')} s on {t.get('device', '?')}{how}"
          + ("" if t.get("finished", True) else " (unfinished: continue with --resume)"))
    if t.get("command"):
        print(f"  command: {t['command']}")
    if ckpt.metrics:
        print("  metrics:")
        print("\n".join(_fmt_metrics(ckpt.metrics, "    ")))
    return 0


def _label_summary(values: list) -> str | dict:
    if values and all(isinstance(v, (int, float)) for v in values):
        return {"min": min(values), "max": max(values)}
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return f"{len(counts)} classes ({', '.join(list(map(str, counts))[:10])}{', ...' if len(counts) > 10 else ''})"


def _cmd_eval(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.device import resolve_device
    from explorer.data import load_dataset, reload_dataset
    from explorer.train.evaluate import evaluate

    ckpt = load_checkpoint(args.checkpoint)
    device = resolve_device(args.device)
    if args.data:
        info = ckpt.modality.get("parts", {}).get("image", ckpt.modality)  # audio-visual: the picture's size
        res = info["resolution"][0] if ckpt.modality["name"] in ("image", "audiovisual") else None
        # the checkpoint's own split by item name: its training items decoded, the rest fitted
        dataset = load_dataset(args.data, ckpt.modality["name"], resolution=res).split_like(ckpt.names)
    else:
        dataset = reload_dataset(ckpt.data, ckpt.modality["name"], consume=_show_build)
    if args.sheet:
        from PIL import Image

        from explorer.io.atomic import atomic_write_bytes
        from explorer.core.contact_sheet import render_sheet, sheet_rows

        rows = sheet_rows(_pipeline(ckpt, args), ckpt, dataset, args.max_items or 16, args.fit_steps)
        buf = io.BytesIO()
        Image.fromarray((render_sheet(rows) * 255).astype("uint8")).save(buf, format="PNG")
        atomic_write_bytes(args.sheet, buf.getvalue())
        print(f"wrote {args.sheet}: {len(rows)} rows", file=sys.stderr)
        return 0
    args.max_items = args.max_items or 200
    if (args.paths or args.completion) and dataset.is_test.all():
        raise ExplorerError(f"--{'paths' if args.paths else 'completion'} compares with the checkpoint's training "
                            "items, and none of them is in this data")
    if args.paths:
        from explorer.core.quality import compare_paths

        if "parts" in ckpt.modality:
            raise ExplorerError("--paths compares decoded frames of one field: not for audio-visual checkpoints")
        pipeline = _pipeline(ckpt, args)
        signals, coords, truth = _path_references(ckpt, pipeline.plug.prepare(dataset))
        result = compare_paths(pipeline, signals, args.paths, coords=coords, truth=truth)
        key = "paths"
    elif args.hallucination:
        from explorer.core.hallucinate import match_rate

        if ckpt.modality["name"] != "audiovisual" or "key" not in ckpt.labels:
            raise ExplorerError("--hallucination is measured on audio-visual checkpoints of av-notes data")
        result = match_rate(_pipeline(ckpt, args), dataset.test(), args.max_items, args.k, args.fit_steps,
                            args.starts)
        key = "hallucination"
    elif args.completion:
        from explorer.core.complete import completion_benchmark

        if ckpt.modality["name"] != "image":
            raise ExplorerError("--completion is measured on image checkpoints")
        result = completion_benchmark(_pipeline(ckpt, args), dataset.train().values,
                                      dataset.test().values[: args.max_items], args.completion, args.k,
                                      args.fit_steps, args.starts)
        key = f"completion:{args.completion}"
    else:
        result = evaluate(ckpt, dataset, max_items=args.max_items, fit_steps=args.fit_steps, device=device,
                          fit_lle=args.fit_loss == "rec+lle", precision=args.precision, report=_EvalProgress())
        key = "eval" if not args.data else f"eval:{args.data}"
    if args.save:
        from explorer.models.checkpoint import save_metrics

        save_metrics(ckpt, key, result | {"command": "latent-explorer " + shlex.join(argv)})
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{ckpt.path}")
        print("\n".join(_fmt_metrics(result)))
    return 0


class _EvalProgress:
    """``evaluate``'s progress on stderr: what it is doing, and a bar for the held-out fits."""

    WORDS = {"decoding": "decoding the training items", "fitting": "fitting the held-out items",
             "measuring": "measuring the held-out items"}

    def __init__(self) -> None:
        self.bar, self.stage = None, ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is not None and (stage != self.stage or done >= total):
            self.bar.update(total - self.bar.n if stage == self.stage else 0)
            self.bar.close()
            self.bar = None
        if self.bar is None and done < total:
            unit = "step" if stage == "fitting" else "part"
            self.bar = tqdm(total=total, desc=self.WORDS[stage], unit=unit, file=sys.stderr, disable=None)
            self.stage = stage
        if self.bar is not None:
            self.bar.update(done - self.bar.n)


def _path_references(ckpt, dataset) -> tuple:
    """``(signals, coords, truth)`` for ``compare_paths``: the training signals where frames are compared
    (the grid; for shapes the sample points every item shares), and the ground truth where the
    data's factors are known (``explorer.data.factors``)."""
    import torch

    from explorer.data.factors import has_factors, truth_frames

    train = dataset.train()
    coords = None
    signals = train.values
    if train.coords is not None:  # point-sampled signals (shapes): compare at the shared points
        shared = train.comparable_points
        coords = torch.from_numpy(train.coords[0, :shared])
        signals = train.values[:, :shared]
    truth = None
    if has_factors(ckpt.data):
        res = tuple(ckpt.modality["resolution"])
        pts = None if coords is None else coords.numpy()
        truth = lambda a, b, frames: truth_frames(ckpt.data, ckpt.labels, a, b, frames, res, pts)  # noqa: E731
    return signals, coords, truth


def _cmd_export(args: argparse.Namespace, argv: list[str]) -> int:
    from tqdm import tqdm

    from explorer.core.bundle import build_path, make_bundle, resolve_item
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.export import ExportOptions, check_target, checkpoint_sha256, export_steps

    check_target(args.out, args.force)
    ckpt = load_checkpoint(args.checkpoint)
    if args.command == "walk":
        path, params = build_path(ckpt, "walk", resolve_item(ckpt, args.start), steps=args.steps, k=args.k,
                                  seed=args.seed, beta=args.beta)
    else:
        path, params = build_path(ckpt, args.path, resolve_item(ckpt, args.a), resolve_item(ckpt, args.b),
                                  args.frames, args.k)
    if path.note:
        print(f"latent-explorer: {path.note}", file=sys.stderr)
    pipeline = _pipeline(ckpt, args)
    bundle = None
    if args.out.lower().endswith(".json"):
        from explorer.core.quality import path_report

        report = path_report(pipeline, path)
        bundle = make_bundle(ckpt, checkpoint_sha256(args.checkpoint), path, params,
                             {"per_frame": report["per_frame"], "total": report["total"]})
        bundle["command"] = "latent-explorer " + shlex.join(argv)
    options = ExportOptions(resolution=args.resolution, fps=args.fps, loop=args.loop, pingpong=args.pingpong,
                            crossfade_ms=args.crossfade_ms, morph=args.morph, float_wav=args.float_wav,
                            mesh_format=args.mesh_format)
    bar = tqdm(total=len(path.latents), unit="frame", file=sys.stderr, disable=None)
    last = None
    for last in export_steps(pipeline, path.latents, args.out, options, bundle, args.force):
        bar.n = last.done
        bar.refresh()
    bar.close()
    print(f"wrote {last.path} ({len(path.latents)} frames, {path.method})", file=sys.stderr)
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.embed import EmbedResult, embed_steps, read_signal

    ckpt = load_checkpoint(args.checkpoint)
    pipeline = _pipeline(ckpt, args)
    observed = read_signal(pipeline, args.file, invert={"auto": None, "yes": True, "no": False}[args.invert])
    bar = tqdm(total=args.steps, unit="step", file=sys.stderr, disable=None)
    result = None
    for step in embed_steps(pipeline, observed, args.steps, lle=args.fit_loss == "rec+lle"):
        if isinstance(step, EmbedResult):
            result = step
        else:
            bar.update(1)
    bar.close()
    if args.out:
        plug = pipeline.parts[result.part]
        signal = pipeline.signal(result.latent[None], part=result.part)[0]
        if plug.name == "shape":
            import trimesh

            from explorer.io.atomic import atomic_write_bytes

            v, f = signal
            atomic_write_bytes(args.out, trimesh.Trimesh(v, f, process=False).export(file_type=args.out.rsplit(".", 1)[-1]))
        else:
            plug.write(args.out, signal)
    def labels(i: int) -> dict:
        return {k: v[i] for k, v in ckpt.labels.items() if k != "folder"}

    out = {"file": args.file, "part": result.part, "metrics": result.metrics, "notes": result.notes,
           "neighbours": [{"index": i, "name": n, "distance": d, "labels": labels(i)} for i, n, d in result.neighbours],
           "latent": [float(v) for v in result.latent]}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{args.file} embedded in {ckpt.path} ({args.steps} steps, {args.fit_loss})")
        for note in result.notes:
            print(f"  note: {note} (--invert no to keep it as it is)")
        print("  fit: " + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()))
        print("  nearest training items: " + ", ".join(
            f"{n} ({', '.join(str(v) for v in labels(i).values())}; {d:.3g})" if labels(i) else f"{n} ({d:.3g})"
            for i, n, d in result.neighbours))
    return 0


def _cmd_complete(args: argparse.Namespace) -> int:
    from pathlib import Path

    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.complete import complete, half_space_mask, image_mask, time_mask
    from explorer.core.embed import read_signal
    from explorer.data.folders import require_empty_folder

    out = require_empty_folder(args.out)
    ckpt = load_checkpoint(args.checkpoint)
    pipeline = _pipeline(ckpt, args)
    observed = read_signal(pipeline, args.file)
    plug = pipeline.parts[observed.part]
    res = pipeline.resolution(observed.part)
    if plug.name == "image":
        hidden = image_mask(args.mask, *res).reshape(-1)
    elif plug.name == "audio":
        hidden = time_mask(args.mask, res)
    else:
        hidden = half_space_mask(args.mask, observed.coords[0].numpy())
    z = complete(pipeline, observed.values, observed.coords, hidden, args.k, args.steps, part=observed.part,
                 starts=args.starts)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(args.file).stem
    for j, zj in enumerate(z):
        signal = pipeline.signal(zj[None], part=observed.part)[0]
        if plug.name == "shape":
            import trimesh

            from explorer.io.atomic import atomic_write_bytes

            atomic_write_bytes(out / f"{stem}-completion-{j}.ply",
                               trimesh.Trimesh(*signal, process=False).export(file_type="ply"))
        else:
            plug.write(out / f"{stem}-completion-{j}.{'png' if plug.name == 'image' else 'wav'}", signal)
    if plug.name == "image":  # what the manifold saw: the hidden part greyed out
        seen = observed.values[0].numpy().copy()
        seen[hidden] = 0.0
        import torch

        plug.write(out / f"{stem}-visible.png", plug.to_signal(torch.from_numpy(seen), res))
    print(f"wrote {args.k} completions of {args.file} to {out}", file=sys.stderr)
    return 0


def _cmd_hallucinate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.embed import read_signal
    from explorer.core.hallucinate import hallucinate
    from explorer.data.folders import require_empty_folder

    out = require_empty_folder(args.out)
    pipeline = _pipeline(load_checkpoint(args.checkpoint), args)
    if "parts" not in pipeline.ckpt.modality:
        raise ExplorerError("hallucinate needs an audio-visual checkpoint (one latent, a picture field and a sound field)")
    observed = read_signal(pipeline, args.file)
    other = next(k for k in pipeline.parts if k != observed.part)
    z = hallucinate(pipeline, observed.part, observed.values, args.k, args.steps, starts=args.starts)
    plug = pipeline.parts[other]
    out.mkdir(parents=True, exist_ok=True)
    suffix = "png" if plug.name == "image" else "wav"
    for j, proposal in enumerate(pipeline.signal(z, part=other)):
        plug.write(out / f"{Path(args.file).stem}-proposal-{j}.{suffix}", proposal)
    print(f"wrote {args.k} {'pictures' if suffix == 'png' else 'sounds'} proposed for {args.file} to {out}",
          file=sys.stderr)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import dataclasses
    import os

    import torch

    from explorer.core.bench import run_bench
    from explorer.core.device import resolve_device

    device = resolve_device("auto")
    header = (f"latent-explorer bench{' --quick' if args.quick else ''}: {device.type}, "
              f"{torch.get_num_threads()} torch threads, {os.cpu_count()} cores, torch {torch.__version__}")
    if not args.json:
        print(header, flush=True)
    report = (lambda r: None) if args.json else (lambda r: print(r.line(), flush=True))
    results = run_bench(args.quick, report=report)
    try:  # the map is the app's: measured only where its libraries are installed
        from explorer.io.timing import BenchResult
        from explorer.ui.bench_map import map_frame_ms, startup_ms

        ms = startup_ms(1 if args.quick else 3)
        results.append(BenchResult("app start to a usable map (default checkpoint)", ms, 1 if args.quick else 3,
                                   3000, "a fresh interpreter: imports, window, checkpoint, PCA map drawn"))
        report(results[-1])

        n = 10_000 if args.quick else 100_000
        ms, detail = map_frame_ms(n, frames=6 if args.quick else 30)
        results.append(BenchResult(f"map pan/zoom frame, {n} points", ms, 6 if args.quick else 30, 1000 / 30,
                                   f"{1000 / ms:.0f} fps; {detail}"))
        report(results[-1])
    except ImportError as e:
        print(f"(map frame time not measured: {e})", file=sys.stderr)
    if args.json:
        print(json.dumps({"machine": header, "results": [dataclasses.asdict(r) for r in results]}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = _parser()
    if not argv or argv[0] not in SUBCOMMANDS + ("-h", "--help", "--version"):
        try:  # the desktop app: latent-explorer [CHECKPOINT] [--screenshot PNG]
            from explorer.ui.app import run

            return run(argv)
        except ImportError as e:
            print(f"latent-explorer: error: the desktop app cannot start: {e}", file=sys.stderr)
            return 1
        except ExplorerError as e:
            print(f"latent-explorer: error: {e}", file=sys.stderr)
            return 1
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if hasattr(args, "threads"):
            _set_threads(args.threads)
        if args.command == "train":
            return _cmd_train(args, argv)
        if args.command == "info":
            return _cmd_info(args)
        if args.command == "eval":
            return _cmd_eval(args, argv)
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "bench":
            return _cmd_bench(args)
        if args.command in ("export", "walk"):
            return _cmd_export(args, argv)
        if args.command == "embed":
            return _cmd_embed(args)
        if args.command == "complete":
            return _cmd_complete(args)
        if args.command == "hallucinate":
            return _cmd_hallucinate(args)
    except ExplorerError as e:
        if debug:
            traceback.print_exc()
        print(f"latent-explorer: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("latent-explorer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. "| head"): not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # a bug: one line unless --debug
        if debug:
            raise
        print(f"latent-explorer: internal error: {e.__class__.__name__}: {e} (run again with --debug for the traceback)",
              file=sys.stderr)
        return 3
    return 2


def _set_threads(n: int | None) -> None:
    """Every core by default (OMP_NUM_THREADS, where set, says otherwise); ``--threads N`` sets it."""
    import os

    import torch

    if n is None:
        if os.environ.get("OMP_NUM_THREADS"):
            return  # torch already follows it
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n < 1:
        raise ExplorerError(f"--threads must be at least 1, got {n}")
    torch.set_num_threads(n)


def _raise_interrupt(signum, frame):  # SIGTERM -> the same clean save as Ctrl-C
    raise KeyboardInterrupt

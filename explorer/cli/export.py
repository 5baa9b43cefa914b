"""``latent-explorer export`` and ``walk``: a path or an LLE walk decoded into a file."""
from __future__ import annotations

import argparse
import shlex
import sys


from explorer.cli.common import count, number, pipeline_for, seed_option, speed_options


def export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE",
                   help="the format follows the extension: .gif .mp4 .png (contact strip) .wav .zip (meshes) .json (bundle)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--resolution", type=count(4, 1024), help="image side or SDF grid to decode at (default: images 256 px or more on the long side, decoded at that size; shapes 64)")
    p.add_argument("--fps", type=number(0, 240, lo_open=True), default=12.0, help="frames per second of .gif/.mp4 (default 12)")
    p.add_argument("--loop", type=count(0, 65_535), default=0, help=".gif: times to loop, 0 = for ever (default)")
    p.add_argument("--pingpong", action="store_true", help=".gif/.mp4: play forwards then backwards")
    p.add_argument("--crossfade-ms", type=number(0, 1000), default=50.0, help=".wav: equal-power crossfade between clips")
    p.add_argument("--morph", action="store_true", help=".wav: one sound whose latent moves along the path")
    p.add_argument("--float", dest="float_wav", action="store_true", help=".wav: 32-bit float instead of 16-bit PCM")
    p.add_argument("--mesh-format", choices=["ply", "obj"], default="ply", help=".zip: mesh file format")
    p.add_argument("--k", type=count(1, 100), default=10, help="neighbours of the k-NN graph (default 10)")
    speed_options(p)


def add_parser(sub) -> None:
    x = sub.add_parser("export", help="export the path between two items as GIF, MP4, PNG, WAV, meshes or JSON",
                       description="Decode the path from A to B (indices or names) and write it to a file.")
    x.add_argument("checkpoint", metavar="CKPT")
    x.add_argument("--from", dest="a", required=True, metavar="A")
    x.add_argument("--to", dest="b", required=True, metavar="B")
    x.add_argument("--path", choices=["lerp", "geodesic"], default="lerp", help="straight line or through the data")
    x.add_argument("--frames", type=count(2, 10_000), default=32, help="frames along the path (default 32)")
    export_options(x)

    w = sub.add_parser("walk", help="export an LLE-region walk (GEM's sampling) from an item",
                       description="Walk the manifold's locally linear regions from A and write the samples to a file.")
    w.add_argument("checkpoint", metavar="CKPT")
    w.add_argument("--start", required=True, metavar="A")
    w.add_argument("--steps", type=count(1, 10_000), default=32)
    seed_option(w)
    w.add_argument("--beta", type=number(0, 10), default=0.1, help="noise, as a fraction of the typical neighbour spacing")
    export_options(w)
    for p in (x, w):
        p.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.core.bundle import build_path, path_bundle, resolve_item
    from explorer.core.open_any import open_model
    from explorer.core.export import ExportOptions, check_target, export_steps
    from explorer.io.progress import progress_bar

    check_target(args.out, args.force)  # the name, the format and a place that can be written: before any work
    ckpt = open_model(args.checkpoint)
    options = ExportOptions(resolution=args.resolution, fps=args.fps, loop=args.loop, pingpong=args.pingpong,
                            crossfade_ms=args.crossfade_ms, morph=args.morph, float_wav=args.float_wav,
                            mesh_format=args.mesh_format)
    check_export_fits(ckpt, args.steps + 1 if args.command == "walk" else args.frames, args.out, options)
    if args.command == "walk":
        with progress_bar(total=args.steps, unit="step", desc="walking") as walking:
            path, params = build_path(ckpt, "walk", resolve_item(ckpt, args.start), steps=args.steps, k=args.k,
                                      seed=args.seed, beta=args.beta, progress=lambda done, total: walking.update(1))
    else:
        path, params = build_path(ckpt, args.path, resolve_item(ckpt, args.a), resolve_item(ckpt, args.b),
                                  args.frames, args.k)
    if path.note:
        print(f"latent-explorer: {path.note}", file=sys.stderr)
    pipeline = pipeline_for(ckpt, args)
    bundle = None
    if args.out.lower().endswith(".json"):
        bundle = path_bundle(pipeline, path, params)
        bundle["command"] = "latent-explorer " + shlex.join(argv)
    bar = progress_bar(total=len(path.latents), unit="frame", desc="exporting")
    last = None
    for last in export_steps(pipeline, path.latents, args.out, options, bundle, args.force):
        bar.n = last.done
        bar.refresh()
    bar.close()
    print(f"wrote {last.path} ({len(path.latents)} frames, {path.method})", file=sys.stderr)
    return 0


def export_bytes(ckpt, frames: int, out: str, options) -> int:
    """About the memory an export of ``frames`` frames needs at its peak: every decoded frame is kept
    until the file is encoded (a GIF holds the frames, their images and the palette images, pingpong
    frames twice; a PNG strip the frames and the strip), plus one frame's decoding."""
    from pathlib import Path

    from explorer.modalities import checkpoint_plug, plug_parts

    fmt = Path(out).suffix.lower()
    shown = frames + (max(frames - 2, 0) if options.pingpong and fmt in (".gif", ".mp4") else 0)
    per_frame, once = 0, 0
    for key, plug in plug_parts(checkpoint_plug(ckpt)).items():
        info = ckpt.modality if key is None else ckpt.modality["parts"][key]
        frame, peak = plug.export_memory(fmt, tuple(info["resolution"]), options)
        per_frame, once = per_frame + frame, max(once, peak)
    return shown * per_frame + once


def check_export_fits(ckpt, frames: int, out: str, options) -> None:
    """Refuse, before decoding anything, an export the machine has not the memory for, with both figures."""
    from explorer.io.memory import check_fits

    check_fits(export_bytes(ckpt, frames, out, options), f"{frames} frames of {out}")

"""``latent-explorer embed``: a latent for a new file, with its nearest training items."""
from __future__ import annotations

import argparse

import json

from explorer.cli.common import check_out_file, count, pipeline_for, speed_options



def add_parser(sub) -> None:
    em = sub.add_parser("embed", help="fit a latent for a new signal (image, sound or mesh file)",
                        description="Read FILE as the checkpoint's signal, fit a latent with the network frozen "
                                    "(GEM 4.4: L_rec + L_LLE), report the fit and the nearest training items.")
    em.add_argument("checkpoint", metavar="CKPT")
    em.add_argument("file", metavar="FILE")
    em.add_argument("--json", action="store_true")
    em.add_argument("--steps", type=count(1, 100_000), default=300, help="fitting steps (default 300)")
    em.add_argument("--fit-loss", choices=["rec+lle", "rec"], default="rec+lle")
    em.add_argument("--fit-init", choices=["mean", "closest"], default="mean",
                    help="where the fit starts: the mean training latent, or the --k training latents whose decodes "
                         "are closest to the file, keeping the fit that ends closest (K times the work)")
    em.add_argument("--k", type=count(2, 64), default=4, help="--fit-init closest: fits from as many starts (default 4)")
    em.add_argument("--out", metavar="FILE", help="also write the reconstruction (a file of the modality's format)")
    em.add_argument("--invert", choices=["auto", "yes", "no"], default="auto",
                    help="pictures: embed the negative (auto: when the background is the opposite of the "
                         "training pictures', e.g. a dark shoe on white for Fashion-MNIST)")
    speed_options(em)
    em.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.core.open_any import open_model
    from explorer.core.embed import EmbedResult, embed_steps, read_signal
    from explorer.io.progress import progress_bar

    if args.out:
        check_embed_out(args.file, args.out)
    ckpt = open_model(args.checkpoint)
    pipeline = pipeline_for(ckpt, args)
    observed = read_signal(pipeline, args.file, invert={"auto": None, "yes": True, "no": False}[args.invert])
    bar = progress_bar(total=args.steps, unit="step", desc="fitting")
    result = None
    for step in embed_steps(pipeline, observed, args.steps, lle=args.fit_loss == "rec+lle",
                            starts=args.k if args.fit_init == "closest" else 1):
        if isinstance(step, EmbedResult):
            result = step
        else:
            bar.update(1)
    bar.close()
    if args.out:
        plug = pipeline.parts[result.part]
        signal = pipeline.signal(result.latent[None], part=result.part)[0]
        plug.write(args.out, signal)
    def labels(i: int) -> dict:
        return {k: v[i] for k, v in ckpt.labels.items() if k != "folder"}

    out = {"file": args.file, "part": result.part, "metrics": result.metrics, "notes": result.notes,
           "neighbours": [{"index": i, "name": n, "distance": d, "labels": labels(i)} for i, n, d in result.neighbours],
           "latent": [float(v) for v in result.latent], "fit_init": args.fit_init}
    if args.fit_init == "closest":
        out["fit_k"] = args.k
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        starts = f", the best of {args.k} closest starts" if args.fit_init == "closest" else ""
        print(f"{args.file} embedded in {ckpt.path} ({args.steps} steps, {args.fit_loss}{starts})")
        for note in result.notes:
            print(f"  note: {note} (--invert no to keep it as it is)")
        print("  fit: " + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()))
        print("  nearest training items: " + ", ".join(
            f"{n} ({', '.join(str(v) for v in labels(i).values())}; {d:.3g})" if labels(i) else f"{n} ({d:.3g})"
            for i, n, d in result.neighbours))
    return 0


def check_embed_out(file: str, out: str) -> None:
    """``--out`` has the extension of what FILE's reconstruction is written as (a picture .png, a sound .wav,
    a mesh .ply/.obj/.stl/.off) and a place that can be written, before the checkpoint is even read."""
    from pathlib import Path

    from explorer.data.audio_folder import AUDIO_SUFFIXES
    from explorer.data.image_folder import IMAGE_SUFFIXES
    from explorer.data.shapes import MESH_SUFFIXES
    from explorer.errors import ExplorerError
    from explorer.modalities.audio import AudioModality
    from explorer.modalities.image import ImageModality
    from explorer.modalities.shape import ShapeModality

    kinds = ((IMAGE_SUFFIXES, "a picture", ImageModality), (AUDIO_SUFFIXES, "a sound", AudioModality),
             (MESH_SUFFIXES, "a mesh", ShapeModality))
    given = Path(out).suffix.lower()
    for suffixes, what, plug in kinds:
        if Path(file).suffix.lower() in suffixes and given not in plug.write_suffixes:
            raise ExplorerError(f"--out {out}: the reconstruction of {Path(file).name} is {what}, written as "
                                f"{' or '.join(plug.write_suffixes)}, not {given or '(no extension)'}")
    check_out_file(out)

"""``latent-explorer import deepsdf EXPERIMENT_DIR --out CKPT``: someone else's trained model as a checkpoint."""
from __future__ import annotations

import argparse
import shlex
import sys

from explorer.cli.common import check_out_file, count


def add_parser(sub) -> None:
    imp = sub.add_parser("import", help="turn another tool's trained model into a checkpoint (DeepSDF)",
                         description="Read a trained model made by another tool and write it as a regular "
                                     "checkpoint, which the app, export, embed and complete then open.")
    kinds = imp.add_subparsers(dest="source", metavar="SOURCE", required=True)
    ds = kinds.add_parser("deepsdf", help="a DeepSDF experiment folder (specs.json, ModelParameters, LatentCodes)",
                          description="Rebuild DeepSDF's decoder from EXPERIMENT_DIR/specs.json, read its weights "
                                      "and latent codes at one epoch (PyTorch files are read as tensors only, never "
                                      "as code) and the shape names and classes from the train split.")
    ds.add_argument("experiment", metavar="EXPERIMENT_DIR")
    ds.add_argument("--checkpoint", default="latest", metavar="latest|EPOCH",
                    help="which snapshot: latest (default) or an epoch number, as DeepSDF's own scripts take it")
    ds.add_argument("--split", metavar="JSON", help="the train split, when specs.json's TrainSplit is not found "
                                                    "relative to the experiment or the folders above it")
    ds.add_argument("--grid", type=count(8, 256), default=64, help="the mesh grid side it decodes at (default 64)")
    ds.add_argument("--out", required=True, metavar="CKPT", help="the checkpoint to write (.safetensors)")
    ds.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.core.deepsdf_import import import_deepsdf
    from explorer.models.checkpoint import save_checkpoint

    out = check_out_file(args.out)
    done = import_deepsdf(args.experiment, args.checkpoint, args.split, args.grid,
                          command=shlex.join(["latent-explorer", *argv]))
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    save_checkpoint(done.checkpoint, out)
    ck = done.checkpoint
    print(f"{out}: {ck.n_items} shapes, latent dim {ck.model_config.latent_dim}, {ck.model_config.summary()}, "
          f"epoch {done.epoch}")
    return 0

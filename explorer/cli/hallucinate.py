"""``latent-explorer hallucinate``: K sounds for a picture, K pictures for a sound."""
from __future__ import annotations

import argparse
import sys

from explorer.errors import ExplorerError

from explorer.cli.common import check_out_folder, k_fits_options, pipeline_for



def add_parser(sub) -> None:
    hl = sub.add_parser("hallucinate", help="audio-visual checkpoints: K sounds for a picture, K pictures for a sound",
                        description="Fit K latents to FILE's modality alone from different starts (GEM 5.2, fig. 8) "
                                    "and write what each proposes for the other modality into DIR.")
    hl.add_argument("checkpoint", metavar="CKPT")
    hl.add_argument("file", metavar="FILE", help="an image (proposes sounds) or a sound (proposes pictures)")
    k_fits_options(hl, "proposals")
    hl.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from pathlib import Path

    from explorer.core.open_any import open_model
    from explorer.core.embed import read_signal
    from explorer.core.hallucinate import hallucinate
    from explorer.data.folders import require_empty_folder

    out = require_empty_folder(args.out)
    check_out_folder(args.out)
    pipeline = pipeline_for(open_model(args.checkpoint), args)
    if "parts" not in pipeline.ckpt.modality:
        raise ExplorerError("hallucinate needs an audio-visual checkpoint (one latent, a picture field and a sound field)")
    observed = read_signal(pipeline, args.file)
    other = next(k for k in pipeline.parts if k != observed.part)
    z = hallucinate(pipeline, observed.part, observed.values, args.k, args.steps, starts=args.starts)
    plug = pipeline.parts[other]
    out.mkdir(parents=True, exist_ok=True)
    for j, proposal in enumerate(pipeline.signal(z, part=other)):
        plug.write(out / f"{Path(args.file).stem}-proposal-{j}{plug.file_suffix}", proposal)
    print(f"wrote {args.k} {plug.signal_words[1]} proposed for {args.file} to {out}", file=sys.stderr)
    return 0

"""``latent-explorer data build``: the built-in datasets written as files."""
from __future__ import annotations

import argparse
import sys


from explorer.cli.common import check_out_folder, count, seed_option, show_build



def add_parser(sub) -> None:
    d = sub.add_parser("data", help="dataset builders", description="Build a dataset into a folder.")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    b = dsub.add_parser("build", help="write a built-in dataset as files",
                        description="Write a built-in image dataset as PNG files plus labels.csv "
                                    "(train on it later with --data DIR).")
    b.add_argument("name", choices=["fashion-mnist", "sprites", "notes", "furniture", "av-notes"],
                   help="notes: 1 s instrument notes rendered with fluidsynth (50 instruments, 5 of each of 10 families, x 25 pitches; --count takes the first N instruments, the first 10 one of each family); "
                        "furniture: the Sweet Home 3D catalogue as PLY meshes; av-notes: each note with a "
                        "picture of its instrument and key (audio-visual pairs)")
    b.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    b.add_argument("--count", type=count(1, 1_000_000), help="number of items (default: sprites 2000, fashion-mnist all; notes: instruments)")
    b.add_argument("--resolution", type=count(4, 1024), help="image side in pixels (sprites)")
    seed_option(b)
    b.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.data.build import build
    from explorer.data.folders import require_empty_folder

    require_empty_folder(args.out)
    check_out_folder(args.out)
    units = []

    def consume(progress, unit, total):
        units.append(unit)
        return show_build(progress, unit, total)

    count = build(args.name, args.out, args.count, args.resolution, args.seed, consume=consume)
    plural = units[0] + ("es" if units[0].endswith("sh") else "s")
    print(f"wrote {count} {plural} and labels.csv to {args.out}", file=sys.stderr)
    return 0

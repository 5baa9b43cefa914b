"""The command line: ``latent-explorer COMMAND ...``, one module per command, or the desktop app.

Each command module has ``add_parser(sub)`` (which sets ``func``) and ``run(args, argv)``; its heavy
imports (torch, the engine) are inside ``run``, so ``--help`` stays quick.
"""
from __future__ import annotations

import argparse
import signal
import sys
import traceback

from explorer.errors import ExplorerError

COMMANDS = ("train", "info", "eval", "bench", "export", "embed", "complete", "hallucinate", "data", "import",
            "desktop-install", "desktop-uninstall")
MODULES = {"import": "import_model", "desktop-install": "desktop", "desktop-uninstall": "desktop"}
"""A command whose module is named otherwise (``import`` is a Python keyword)."""
SUBCOMMANDS = COMMANDS + ("walk",)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, except that lines never break inside a hyphenated word: a preset (``audio-waveform``),
    an option (``--fit-steps``) or a file name stays whole, as it must be typed."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(self._whitespace_matcher.sub(" ", text).strip(), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in self._split_lines(text, width - len(indent)))


class Parser(argparse.ArgumentParser):
    """argparse, except that a wrong argument is one line and exit status 1, like every other error of
    the command line (argparse prints its usage first and exits 2); ``-h`` still shows the usage. Help lines
    break between words only (``HelpFormatter``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(1, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def build_parser() -> argparse.ArgumentParser:
    from importlib import import_module

    p = Parser(
        prog="latent-explorer",
        description="Explore, train and evaluate neural-field manifolds (GEM auto-decoders). "
                    "Without a command it opens the desktop app: latent-explorer [CHECKPOINT] "
                    "(the shipped Fashion-MNIST model when none is given).",
        epilog="Add --debug to any command to see the full traceback of an error.",
    )
    p.add_argument("--version", action=_Version, nargs=0,
                   help="show the version, the torch build and device, and the Qt version, then exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in dict.fromkeys(MODULES.get(name, name) for name in COMMANDS):  # a module may add several commands
        import_module(f"explorer.cli.{module}").add_parser(sub)
    return p


class _Version(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        from explorer.version_info import version_lines

        print("\n".join(version_lines()))
        parser.exit(0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
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
            from explorer.cli.common import set_threads

            set_threads(args.threads)
        return args.func(args, argv)
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


def _raise_interrupt(signum, frame):  # SIGTERM -> the same clean save as Ctrl-C
    raise KeyboardInterrupt

"""The datasets the project builds itself (``latent-explorer data build NAME``).

A built folder carries ``built.json`` (what was built, with which options), and every dataset
loaded from it records that in its ``source``. A checkpoint trained on such a folder can then
rebuild its data on any machine: ``rebuild`` writes it once into the user cache
(``~/.cache/latent-explorer/data/...``) and later evaluations read it from there.

Each build writes into a hidden folder beside its target and renames it into place at the end,
so an interrupted build leaves nothing that looks finished.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from explorer.data.folders import require_empty_folder
from explorer.io.cache import user_cache
from explorer.io.progress import run_to_end
from explorer.errors import ExplorerError

RECORD = "built.json"
LEFTOVER_PREFIX = ".{name}.building-"
"""The temporary folder a build writes into, beside its target, followed by the builder's process id."""
NAMES = ("notes", "av-notes", "furniture", "sprites", "fashion-mnist")


def builder(name: str, out: Path, count: int | None = None, resolution: int | None = None,
            seed: int = 0, picture: str | None = None) -> tuple[Iterator[int], str, int | None]:
    """``(files written so far, unit, total)`` of building ``name`` into the empty folder ``out``;
    ``picture``: av-notes' drawing of the played key (``av_notes.PICTURES``; ``build`` resolves None to the first)."""
    if name == "notes":
        from explorer.data.notes import NOTES_PROGRAMS, PITCHES, build_notes

        programs = NOTES_PROGRAMS[:count] if count else NOTES_PROGRAMS
        return build_notes(out, programs), "clip", len(programs) * len(PITCHES)
    if name == "av-notes":
        from explorer.data.av_notes import build_av_notes
        from explorer.data.notes import INSTRUMENTS, PITCHES

        programs = list(INSTRUMENTS)[:count] if count else list(INSTRUMENTS)
        return build_av_notes(out, programs, picture=picture), "pair", len(programs) * len(PITCHES)
    if name == "furniture":
        from explorer.data.furniture import build_furniture

        return build_furniture(out, max_items=count), "mesh", count
    if name == "sprites":  # rendered as it is written: any count in constant memory
        from explorer.data.sprites import write_sprites

        n = count or 2000
        return write_sprites(out, n, resolution or 32, seed), "image", n
    if name == "fashion-mnist":
        from explorer.data import load_dataset
        from explorer.data.export_folder import write_image_folder

        ds = load_dataset(name, "image", max_items=count, max_test=0 if count else None, resolution=resolution,
                          seed=seed)
        return write_image_folder(ds, out), "image", len(ds.names)
    raise ExplorerError(f"unknown dataset {name!r}; choose one of {', '.join(NAMES)}")


def build(name: str, out: str | Path, count: int | None = None, resolution: int | None = None, seed: int = 0,
          consume: Callable[[Iterator[int], str, int | None], int] | None = None, picture: str | None = None) -> int:
    """Build ``name`` into ``out`` (new or empty) and return the number of files; ``consume(progress,
    unit, total)`` runs the build (to show progress) and returns the count; ``picture`` as ``builder``'s."""
    out = Path(out)
    require_empty_folder(out)
    if name == "av-notes":
        from explorer.data.av_notes import PICTURES

        picture = picture or PICTURES[0]
    if name == "notes" and count is None:  # the record names the count: the default may grow again
        from explorer.data.notes import NOTES_PROGRAMS

        count = len(NOTES_PROGRAMS)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExplorerError(f"could not build {name} into {out}: {e.strerror or e}") from e
    remove_leftovers(out)
    tmp = out.parent / f"{LEFTOVER_PREFIX.format(name=out.name)}{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        progress, unit, total = builder(name, tmp, count, resolution, seed, picture)
        done = consume(progress, unit, total) if consume else run_to_end(progress, "the build")
        record = {"build": name, "count": count, "resolution": resolution, "seed": seed}
        if picture is not None:
            record["picture"] = picture
        (tmp / RECORD).write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, out)  # an empty target folder is replaced; a full one was refused above
    except OSError as e:
        raise ExplorerError(f"could not build {name} into {out}: {e.strerror or e}") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done


def remove_leftovers(out: Path) -> list[Path]:
    """Remove the temporary folders that earlier builds into ``out`` left behind (killed, or the machine
    stopped, before they could clean up); a build still running in another process keeps its own."""
    removed = []
    prefix = LEFTOVER_PREFIX.format(name=out.name)
    for tmp in out.parent.glob(glob.escape(prefix) + "*"):
        pid = tmp.name[len(prefix):]
        if not pid.isdigit() or not tmp.is_dir() or _running(int(pid)):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process: an earlier build of ours that failed
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a number we cannot ask about: leave it
    return True


def read_record(folder: str | Path) -> dict | None:
    """What ``data build`` wrote into ``folder`` (None for a folder the user made)."""
    try:
        record = json.loads((Path(folder) / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("build") in NAMES else None


def cache_folder(record: dict) -> Path:
    """Where ``rebuild`` keeps a built dataset: one folder per name and options."""
    key = record["build"]
    for opt in ("count", "resolution", "picture"):
        if record.get(opt) is not None:
            key += f"-{opt}{record[opt]}"
    if record.get("seed"):
        key += f"-seed{record['seed']}"
    return user_cache("data", key)


def recorded_picture(record: dict) -> str | None:
    """av-notes' drawing of the played key in a built folder's record: a folder built before the record
    named it has the original drawing, "marker" (``av_notes.PICTURES``); None for other datasets."""
    if record.get("build") != "av-notes":
        return None
    return record.get("picture") or "marker"


def recorded_count(record: dict) -> int | None:
    """The count a built folder's record stands for: notes folders built before the record named their count
    (2026-12-05) hold the first ``notes.LEGACY_NOTES_COUNT`` instruments, today's default holds more."""
    if record.get("build") == "notes" and record.get("count") is None:
        from explorer.data.notes import LEGACY_NOTES_COUNT

        return LEGACY_NOTES_COUNT
    return record.get("count")


def rebuild(record: dict, consume: Callable[[Iterator[int], str, int | None], int] | None = None) -> Path:
    """The folder of a built dataset in the user cache, built there first if it is not yet."""
    folder = cache_folder(record)
    if read_record(folder) is None:
        if folder.exists():  # a folder without its record is unfinished or foreign: start again
            shutil.rmtree(folder, ignore_errors=True)
        build(record["build"], folder, recorded_count(record), record.get("resolution"), record.get("seed") or 0,
              consume, picture=recorded_picture(record))
    return folder

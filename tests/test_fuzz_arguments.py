"""Random arguments to every command that reads a checkpoint or data: each run ends in a success or in one
line and exit status 1 — never a traceback, an internal error or a hang — and writes no file.

The checkpoint given is not one (so a command that accepts its arguments stops at the file, quickly);
``FUZZ_EXAMPLES=N`` runs N cases, ``FUZZ_REPORT=FILE`` appends the outcome counts to FILE.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cli import build_parser, main

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
COMMANDS = ("info", "eval", "export", "walk", "embed", "complete", "hallucinate", "train")
VALUES = ["0", "-1", "1", "3", "1e9", "1000000000", "nan", "inf", "-inf", "", "abc", "-5.5", "0.5",
          "99999999999999999999", "/nonexistent/folder/x.gif", "/proc/x.png", "x.unknown", "/", "/dev/null",
          "lerp", "geodesic", "centre", "auto", "cpu", "cuda"]


def _options(command: str) -> list:
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    return [a for a in sub._actions if a.option_strings and a.dest != "help"]


@st.composite
def command_lines(draw, folder: str):
    command = draw(st.sampled_from(COMMANDS))
    bad_checkpoint = os.path.join(folder, "notes.txt.safetensors")
    argv = [command] if command == "train" else [command, bad_checkpoint]
    if command in ("embed", "complete", "hallucinate"):
        argv.append(os.path.join(folder, "signal.png"))
    if command == "train":
        argv += ["--data", folder]  # a folder with no signals in it
    for action in draw(st.lists(st.sampled_from(_options(command)), max_size=5, unique_by=lambda a: a.dest)):
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
        elif action.choices and draw(st.booleans()):
            argv += [flag, str(draw(st.sampled_from(list(action.choices))))]
        else:
            argv += [flag, draw(st.sampled_from(VALUES))]
    return argv


def test_random_arguments_give_one_line_or_success_and_write_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt.safetensors").write_text("these are notes, not a checkpoint\n")
    (folder / "signal.png").write_bytes(b"not a png")
    before = sorted(p.name for p in folder.rglob("*"))
    monkeypatch.chdir(folder)
    counts: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(command_lines(str(folder)))
    def case(argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = main(argv)
            except SystemExit as e:  # argparse: a wrong argument
                rc = e.code
        text = err.getvalue()
        assert rc in (0, 1), (argv, rc, text)
        assert "Traceback" not in text and "internal error" not in text, (argv, text)
        if rc == 1:
            assert len(text.strip().splitlines()) == 1, (argv, text)
        assert sorted(p.name for p in folder.rglob("*")) == before, argv
        counts[f"{argv[0]}: {'error' if rc else 'ok'}"] += 1

    case()
    assert sum(counts.values()) >= min(EXAMPLES, 50)
    if os.environ.get("FUZZ_REPORT"):
        with open(os.environ["FUZZ_REPORT"], "a") as f:
            f.write(json.dumps({"arguments": sum(counts.values()), **dict(sorted(counts.items()))}) + "\n")

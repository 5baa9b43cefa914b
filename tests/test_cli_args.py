"""Absurd or empty numbers on the command line are refused at once: one line, exit status 1, nothing written."""
import pytest

from explorer.core.shipped import CHECKPOINT_DIR, DEFAULT_CHECKPOINT

from conftest import run_cli

CKPT = str(DEFAULT_CHECKPOINT)

CASES = [
    (["export", CKPT, "--from", "0", "--to", "1", "--fps", "0"], "--fps"),
    (["export", CKPT, "--from", "0", "--to", "1", "--frames", "1000000000"], "--frames"),
    (["export", CKPT, "--from", "0", "--to", "1", "--resolution", "0"], "--resolution"),
    (["export", CKPT, "--from", "0", "--to", "1", "--resolution", "20000"], "--resolution"),
    (["export", CKPT, "--from", "0", "--to", "1", "--k", "0"], "--k"),
    (["walk", CKPT, "--start", "0", "--steps", "0"], "--steps"),
    (["walk", CKPT, "--start", "0", "--steps", "1e9"], "--steps"),
    (["eval", CKPT, "--paths", "1000000000"], "--paths"),
    (["eval", CKPT, "--max-items", "0"], "--max-items"),
    (["complete", CKPT, "x.png", "--mask", "centre", "--k", "1000000"], "--k"),
    (["hallucinate", str(CHECKPOINT_DIR / "av-notes.safetensors"), "x.png", "--steps", "0"], "--steps"),
    (["embed", CKPT, "x.png", "--steps", "-5"], "--steps"),
    (["train", "--data", "fashion-mnist", "--max-items", "0"], "--max-items"),
    (["train", "--data", "fashion-mnist", "--batch-size", "0"], "--batch-size"),
    (["data", "build", "sprites", "--count", "0"], "--count"),
    (["embed", CKPT, "x.png", "--threads", "nan"], "--threads"),
    # every command's --fps, --k, --steps, --max-items and the like at 0 (or below)
    (["export", CKPT, "--from", "0", "--to", "1", "--frames", "0"], "--frames"),
    (["walk", CKPT, "--start", "0", "--fps", "0"], "--fps"),
    (["walk", CKPT, "--start", "0", "--k", "0"], "--k"),
    (["walk", CKPT, "--start", "0", "--resolution", "0"], "--resolution"),
    (["walk", CKPT, "--start", "0", "--seed", "-1"], "--seed"),
    (["embed", CKPT, "x.png", "--steps", "0"], "--steps"),
    (["complete", CKPT, "x.png", "--mask", "centre", "--k", "0"], "--k"),
    (["complete", CKPT, "x.png", "--mask", "centre", "--steps", "0"], "--steps"),
    (["hallucinate", str(CHECKPOINT_DIR / "av-notes.safetensors"), "x.png", "--k", "0"], "--k"),
    (["eval", CKPT, "--k", "0"], "--k"),
    (["eval", CKPT, "--fit-steps", "0"], "--fit-steps"),
    (["eval", CKPT, "--paths", "0"], "--paths"),
    (["train", "--data", "fashion-mnist", "--steps", "0"], "--steps"),
    (["train", "--data", "fashion-mnist", "--resolution", "0"], "--resolution"),
    (["train", "--data", "fashion-mnist", "--max-test", "0"], "--max-test"),
    (["train", "--data", "fashion-mnist", "--seed", "-1"], "--seed"),
    (["train", "--data", "fashion-mnist", "--save-every", "-1"], "--save-every"),
    (["train", "--data", "fashion-mnist", "--threads", "0"], "--threads"),
    (["data", "build", "sprites", "--resolution", "0"], "--resolution"),
    (["data", "build", "sprites", "--seed", "-1"], "--seed"),
]


@pytest.mark.parametrize("args,flag", CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in CASES])
def test_an_absurd_number_is_one_line_and_nothing_is_written(args, flag, tmp_path):
    out = tmp_path / "out"
    extra = [] if "--out" in args or args[0] in ("eval",) else ["--out", str(out / ("x.gif" if args[0] in ("export", "walk") else "x"))]
    proc = run_cli(*args, *extra, check=False, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert f"argument {flag}" in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists()

"""Mutated shipped checkpoints: every one either opens and decodes finite values, or is refused with one
line naming the file — no traceback, no internal error, no new file, no memory grab.

The mutations: any field of the metadata replaced by a value of another type or an absurd size, or
removed; a tensor's declared dtype, shape or offsets changed; flipped bytes in the tensor data; deeply
nested JSON. ``FUZZ_EXAMPLES=N`` runs N cases per checkpoint, ``FUZZ_REPORT=FILE`` appends the outcome
counts to FILE (as the closing note reports them).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import resource
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cli import main
from explorer.core.shipped import CHECKPOINT_DIR

from conftest import join_checkpoint, split_checkpoint

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
NASTY = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.sampled_from([0, -1, 10**9, 2**63, 50000]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.sampled_from(["128", "1e8", ""]),
    st.lists(st.integers(-3, 70000), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _nodes(value, prefix=()):
    """Every (path, value) in a JSON tree, lists shortened to their first three entries."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _nodes(v, prefix + (i,))


def _replace(tree, where: tuple, new, delete: bool):
    if not where:
        return new
    parent = tree
    for k in where[:-1]:
        parent = parent[k]
    if delete and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = new
    return tree


@st.composite
def mutations(draw, header: dict, meta: dict, body: bytes):
    """``(kind, file bytes)`` of one mutated checkpoint."""
    header, meta = json.loads(json.dumps(header)), json.loads(json.dumps(meta))
    kind = draw(st.sampled_from(["metadata", "metadata", "metadata", "tensor", "bytes", "nesting"]))
    if kind == "metadata":
        paths = [p for p, _ in _nodes(meta)]
        where = draw(st.sampled_from(paths))
        meta = _replace(meta, where, draw(NASTY), draw(st.booleans()))
    elif kind == "tensor":
        name = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        field = draw(st.sampled_from(["dtype", "shape", "data_offsets", None]))
        if field is None:
            header[name] = draw(NASTY)
        elif field == "dtype":
            header[name]["dtype"] = draw(st.sampled_from(["I64", "U8", "F64", "F16", "BOOL", "X", 3]))
        else:
            header[name][field] = draw(st.one_of(NASTY, st.lists(st.integers(0, 10**13), min_size=1, max_size=3)))
    elif kind == "bytes":
        b = bytearray(body)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(b) - 1))
            b[i] ^= 1 << draw(st.integers(0, 7))
        body = bytes(b)
    else:
        depth = draw(st.integers(33, 900))  # deeper than Python's json can write: test_json_nested_beyond_any_parser
        meta = _replace(meta, draw(st.sampled_from([("labels",), ("train",), ("model",)])), json.loads("[" * depth + "]" * depth), False)
    return kind, join_checkpoint(header, meta, body)


def _run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(list(argv))
    return rc, err.getvalue()


def _decode_first_item(path: Path) -> None:
    """What the app does on opening: a session on the file, and item 0 decoded to its picture."""
    from explorer.core.session import Session

    session = Session.open(path)
    plug = session.pipeline.parts[next(iter(session.pipeline.parts))]
    part = next(iter(session.pipeline.parts))
    picture = plug.decoded_picture(session.pipeline, session.latents[:1], part, 16)
    assert np.isfinite(picture).all()



@pytest.mark.parametrize("name", ["notes", "av-notes"])
def test_a_mutated_checkpoint_opens_or_is_refused_in_one_line(name, tmp_path_factory):
    from explorer.errors import ExplorerError

    header, meta, body = split_checkpoint(CHECKPOINT_DIR / f"{name}.safetensors")
    folder = tmp_path_factory.mktemp("fuzz")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    counts: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(mutations(header, meta, body))
    def case(mutation):
        kind, raw = mutation
        path = folder / "mutant.safetensors"
        path.write_bytes(raw)
        rc, err = _run("info", str(path))
        lines = err.strip().splitlines()
        assert rc in (0, 1), err
        assert "Traceback" not in err and "internal error" not in err, err
        assert sorted(p.name for p in folder.iterdir()) == ["mutant.safetensors"]
        if rc == 1:
            assert len(lines) == 1 and lines[0].startswith("latent-explorer: error: ") and str(path) in lines[0], err
            counts[f"{kind}: refused"] += 1
            return
        try:
            _decode_first_item(path)
        except ExplorerError as e:  # the file reads, but its model decodes NaN: said in one line
            assert str(path) in str(e) or "NaN" in str(e), e
            counts[f"{kind}: opens, decode refused"] += 1
        else:
            counts[f"{kind}: opens and decodes"] += 1

    case()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    assert grown < 2e9, f"the process grew by {grown / 1e9:.1f} GB"
    assert sum(counts.values()) >= min(EXAMPLES, 20)
    if os.environ.get("FUZZ_REPORT"):
        with open(os.environ["FUZZ_REPORT"], "a") as f:
            f.write(json.dumps({"checkpoint": name, "cases": sum(counts.values()), **dict(sorted(counts.items()))}) + "\n")

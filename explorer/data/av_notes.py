"""Audio-visual notes: a picture of which key of which instrument is played, and the 1 s note it makes.

The sound is the soundfont note of ``explorer.data.notes``; the picture (grey, ``size`` pixels square)
shows the instrument as a glyph above a two-octave keyboard (C3 to C5) whose played key is shaded
and marked from above. Picture and sound depend on each other through (instrument, pitch), which
the labels record, so that cross-modal predictions can be scored.

Two drawings of the played key (``PICTURES``): "beam", the default since 2026-12-04, lights it with a
dark bar from the picture's top edge down to the marker, behind the glyph; "marker", the original
drawing, has only the small marker. Two "marker" pictures of one instrument at different keys differ
by a sixth of what two instruments at one key do (summed squared pixel differences, 20 against 115),
so pictures of one instrument are each other's nearest neighbours whatever the key, and a fit by
pixel error cannot read a pitch from a picture (docs/recipe.md); in "beam" pictures the two differ
alike (124 against 96). A built folder records its drawing (``built.json``), so a checkpoint trained on either
rebuilds its own pictures.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from explorer.data.notes import INSTRUMENTS, PITCHES, note_name, render_notes

SUPERSAMPLE = 4
GLYPHS = ("disc", "square", "triangle", "diamond", "ring", "plus", "cross", "hbars", "vbars", "nabla")
WHITE_CLASSES = (0, 2, 4, 5, 7, 9, 11)


def keyboard_layout(pitches: range = PITCHES) -> dict[int, tuple[float, float, bool]]:
    """``pitch -> (left, right, is_black)`` in units of white-key widths from the keyboard's left edge."""
    out, white = {}, 0
    for p in pitches:
        if p % 12 in WHITE_CLASSES:
            out[p] = (white, white + 1.0, False)
            white += 1
        else:
            out[p] = (white - 0.3, white + 0.3, True)
    return out


KEYBOARD_LEFT, KEYBOARD_WIDTH = 0.03, 0.94
"""Where the keyboard lies across the picture, as fractions of its side."""
MARKER_TOP, MARKER_TIP = 0.55, 0.62
"""The rows (fractions of the side) of the triangle that marks the played key from above."""
BEAM_TOP, BEAM_HALF_WIDTH = 0.03, 0.6
"""The "beam" drawing's bar: its top row (fraction of the side) and half its width (in white-key widths)."""
PICTURES = ("beam", "marker")
"""How a picture shows the played key (the module's docstring); the first is what ``data build`` draws."""


def key_geometry(pitches: range = PITCHES) -> tuple[dict[int, float], float]:
    """``({pitch: centre}, white key width)``, as fractions of the picture's side: shared by the
    drawing and by ``explorer.core.hallucinate.read_key``, which reads the key back."""
    layout = keyboard_layout(pitches)
    key_w = KEYBOARD_WIDTH / sum(not black for *_, black in layout.values())
    return {p: KEYBOARD_LEFT + (a + b) / 2 * key_w for p, (a, b, _) in layout.items()}, key_w


def _glyph(draw, kind: str, cx: float, cy: float, r: float, ink: int) -> None:
    if kind == "disc":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ink)
    elif kind == "square":
        draw.rectangle([cx - 0.8 * r, cy - 0.8 * r, cx + 0.8 * r, cy + 0.8 * r], fill=ink)
    elif kind == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + 0.8 * r), (cx - r, cy + 0.8 * r)], fill=ink)
    elif kind == "nabla":
        draw.polygon([(cx, cy + r), (cx + r, cy - 0.8 * r), (cx - r, cy - 0.8 * r)], fill=ink)
    elif kind == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=ink)
    elif kind == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=ink, width=max(1, int(0.35 * r)))
    elif kind == "plus":
        t = 0.3 * r
        draw.rectangle([cx - r, cy - t, cx + r, cy + t], fill=ink)
        draw.rectangle([cx - t, cy - r, cx + t, cy + r], fill=ink)
    elif kind == "cross":
        w = max(1, int(0.55 * r))
        draw.line([(cx - r, cy - r), (cx + r, cy + r)], fill=ink, width=w)
        draw.line([(cx - r, cy + r), (cx + r, cy - r)], fill=ink, width=w)
    elif kind in ("hbars", "vbars"):
        t = 0.22 * r
        for k in (-1, 0, 1):
            off = k * 0.7 * r
            box = ([cx - r, cy + off - t, cx + r, cy + off + t] if kind == "hbars"
                   else [cx + off - t, cy - r, cx + off + t, cy + r])
            draw.rectangle(box, fill=ink)


def render_picture(glyph: str, pitch: int, size: int = 48, pitches: range = PITCHES,
                   picture: str = PICTURES[0]) -> np.ndarray:
    """Grey pixels ``[size, size]`` in [0, 1]: white paper, dark glyph, keyboard with the played key marked
    (and, in the "beam" drawing, lit by a bar from the top edge)."""
    from PIL import Image, ImageDraw

    if picture not in PICTURES:
        raise ValueError(f"picture must be one of {PICTURES}, not {picture!r}")
    s = size * SUPERSAMPLE
    img = Image.new("L", (s, s), 255)
    draw = ImageDraw.Draw(img)
    layout = keyboard_layout(pitches)
    centres, key_w = key_geometry(pitches)
    x0, key_w = KEYBOARD_LEFT * s, key_w * s
    cx = centres[pitch] * s
    if picture == "beam":  # behind the glyph, which stays whole
        draw.rectangle([cx - BEAM_HALF_WIDTH * key_w, BEAM_TOP * s, cx + BEAM_HALF_WIDTH * key_w, MARKER_TOP * s],
                       fill=25)
    _glyph(draw, glyph, s / 2, 0.29 * s, 0.2 * s, 25)
    top, bottom = 0.64 * s, 0.97 * s
    for p, (a, b, black) in layout.items():  # white keys first, then black keys over them
        if not black:
            shade = 115 if p == pitch else 255
            draw.rectangle([x0 + a * key_w, top, x0 + b * key_w, bottom], fill=shade, outline=140,
                           width=SUPERSAMPLE // 2)
    for p, (a, b, black) in layout.items():
        if black:
            shade = 180 if p == pitch else 40
            draw.rectangle([x0 + a * key_w, top, x0 + b * key_w, top + 0.6 * (bottom - top)], fill=shade)
    draw.polygon([(cx - 0.6 * key_w, MARKER_TOP * s), (cx + 0.6 * key_w, MARKER_TOP * s), (cx, MARKER_TIP * s)],
                 fill=25)
    img = img.resize((size, size), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32) / 255.0


def build_av_notes(out: str | Path, programs: list[int] | None = None, pitches: range = PITCHES,
                   velocity: int = 100, size: int = 48, picture: str = PICTURES[0]) -> Iterator[int]:
    """Write ``instrument/NOTE.png`` + ``instrument/NOTE.wav`` pairs and ``labels.csv``; yield pairs written."""
    import io

    from PIL import Image

    from explorer.io.atomic import atomic_write_bytes
    from explorer.data.folders import require_empty_folder, write_labels_csv
    from explorer.modalities.audio import AudioModality

    out = require_empty_folder(out)
    audio = AudioModality()
    programs = programs or list(INSTRUMENTS)
    rows, done = [], 0
    for program in programs:
        instrument, family = INSTRUMENTS.get(program, (f"program {program}", "other"))
        glyph = GLYPHS[list(INSTRUMENTS).index(program) % len(GLYPHS)] if program in INSTRUMENTS else GLYPHS[-1]
        notes = [(p, velocity) for p in pitches]
        for key, ((pitch, _), clip) in enumerate(zip(notes, render_notes(program, notes))):
            stem = f"{instrument.replace(' ', '-')}/{note_name(pitch)}"
            pixels = render_picture(glyph, pitch, size, pitches, picture)
            buf = io.BytesIO()
            Image.fromarray(np.round(pixels * 255).astype(np.uint8)).save(buf, format="PNG")
            atomic_write_bytes(out / f"{stem}.png", buf.getvalue())
            audio.write(out / f"{stem}.wav", clip)
            rows.append([stem, instrument, family, glyph, pitch, note_name(pitch), key])
            done += 1
            yield done
    write_labels_csv(out, ["file", "instrument", "family", "glyph", "pitch", "note", "key"], rows)

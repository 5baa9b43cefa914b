"""An NSynth-like set of real sampled-instrument notes rendered from Debian's fluid-soundfont-gm.

Each instrument's notes are written as one MIDI sequence (a note every 2 s, held 0.8 s) and
rendered by ``fluidsynth`` in a single call at 16 kHz; the recording is cut into 1 s clips that
start at each note's onset. Labels: instrument, family, MIDI pitch, note name, velocity.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SAMPLE_RATE = 16000
# General MIDI program -> (instrument, family)
INSTRUMENTS = {
    0: ("acoustic grand piano", "keyboard"),
    11: ("vibraphone", "mallet"),
    19: ("church organ", "organ"),
    24: ("nylon guitar", "guitar"),
    33: ("fingered bass", "bass"),
    40: ("violin", "string"),
    56: ("trumpet", "brass"),
    65: ("alto sax", "reed"),
    73: ("flute", "flute"),
    81: ("sawtooth lead", "synth lead"),
}
"""av-notes' instruments, and the first ten of the notes set (``NOTES_PROGRAMS``)."""
MORE_INSTRUMENTS = {
    1: ("bright piano", "keyboard"), 12: ("marimba", "mallet"), 16: ("drawbar organ", "organ"),
    25: ("steel guitar", "guitar"), 32: ("acoustic bass", "bass"), 42: ("cello", "string"),
    57: ("trombone", "brass"), 66: ("tenor sax", "reed"), 72: ("piccolo", "flute"), 80: ("square lead", "synth lead"),
    4: ("electric piano", "keyboard"), 8: ("celesta", "mallet"), 21: ("accordion", "organ"),
    27: ("clean electric guitar", "guitar"), 35: ("fretless bass", "bass"), 48: ("string ensemble", "string"),
    60: ("french horn", "brass"), 71: ("clarinet", "reed"), 75: ("pan flute", "flute"), 82: ("calliope lead", "synth lead"),
    6: ("harpsichord", "keyboard"), 9: ("glockenspiel", "mallet"), 17: ("percussive organ", "organ"),
    26: ("jazz guitar", "guitar"), 34: ("picked bass", "bass"), 41: ("viola", "string"),
    58: ("tuba", "brass"), 64: ("soprano sax", "reed"), 74: ("recorder", "flute"), 84: ("charang lead", "synth lead"),
    7: ("clavinet", "keyboard"), 13: ("xylophone", "mallet"), 20: ("reed organ", "organ"),
    29: ("overdriven guitar", "guitar"), 38: ("synth bass", "bass"), 49: ("slow strings", "string"),
    61: ("brass section", "brass"), 68: ("oboe", "reed"), 79: ("ocarina", "flute"), 87: ("bass and lead", "synth lead"),
}
"""Four more instruments of each of ``INSTRUMENTS``' families, one of each family at a time: a notes set of
any size keeps its families even. Every held-out note of the notes set is an instrument x pitch pair never
trained on; more instruments per family give the model more timbres at each pitch to learn from
(docs/recipe.md, 2026-12-05)."""
NOTES_INSTRUMENTS = INSTRUMENTS | MORE_INSTRUMENTS
NOTES_PROGRAMS = list(NOTES_INSTRUMENTS)
"""The notes set's General MIDI programs in the order ``data build notes --count N`` takes the first N."""
LEGACY_NOTES_COUNT = len(INSTRUMENTS)
"""Instruments of a notes folder built before 2026-12-05, whose record does not name its count."""
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
TICKS_PER_BEAT, TEMPO_US = 480, 500_000  # 120 bpm: 960 ticks a second
SPACING_S, HOLD_S = 2.0, 0.8
PITCHES = range(48, 73)  # C3 to C5


def note_name(pitch: int) -> str:
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def midi_sequence(program: int, notes: list[tuple[int, int]]) -> bytes:
    """A type-0 MIDI file: ``notes`` as (pitch, velocity), one every SPACING_S seconds, each held HOLD_S."""
    tps = TICKS_PER_BEAT * 1_000_000 // TEMPO_US
    hold, gap = int(HOLD_S * tps), int((SPACING_S - HOLD_S) * tps)
    ev = _vlq(0) + bytes([0xFF, 0x51, 0x03]) + TEMPO_US.to_bytes(3, "big") + _vlq(0) + bytes([0xC0, program])
    for k, (pitch, velocity) in enumerate(notes):
        ev += _vlq(0 if k == 0 else gap) + bytes([0x90, pitch, velocity])
        ev += _vlq(hold) + bytes([0x80, pitch, 0])
    ev += _vlq(gap) + bytes([0xFF, 0x2F, 0x00])
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT) + b"MTrk" + struct.pack(">I", len(ev)) + ev


def check_tools() -> None:
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise ExplorerError("building notes needs Debian's fluidsynth and fluid-soundfont-gm: "
                            "apt-get install fluidsynth fluid-soundfont-gm")


def render_notes(program: int, notes: list[tuple[int, int]]) -> np.ndarray:
    """``[len(notes), 16000]`` mono 1 s clips, one per note, from a single fluidsynth run."""
    import soundfile

    check_tools()
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "seq.mid", Path(tmp) / "seq.wav"
        mid.write_bytes(midi_sequence(program, notes))
        proc = subprocess.run(["fluidsynth", "-ni", "-q", "-g", "1.5", "-r", str(SAMPLE_RATE), "-F", str(wav),
                               str(SOUNDFONT), str(mid)], capture_output=True, text=True)
        if proc.returncode != 0 or not wav.exists():
            raise ExplorerError(f"fluidsynth failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
        audio, sr = soundfile.read(str(wav), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    step = int(SPACING_S * sr)
    clips = np.zeros((len(notes), SAMPLE_RATE), np.float32)
    for k in range(len(notes)):
        seg = mono[k * step : k * step + SAMPLE_RATE]
        clips[k, : len(seg)] = seg
    return np.clip(clips, -1.0, 1.0)


def build_notes(out: str | Path, programs: list[int] | None = None, pitches: range = PITCHES,
                velocities: tuple[int, ...] = (100,)) -> Iterator[int]:
    """Write ``instrument/NAME.wav`` clips and ``labels.csv`` into ``out``; yield clips written so far."""
    from explorer.data.folders import require_empty_folder, write_labels_csv
    from explorer.modalities.audio import AudioModality

    out = require_empty_folder(out)
    audio = AudioModality()
    rows = []
    done = 0
    for program in programs or list(INSTRUMENTS):
        instrument, family = NOTES_INSTRUMENTS.get(program, (f"program {program}", "other"))
        notes = [(p, v) for p in pitches for v in velocities]
        for (pitch, velocity), clip in zip(notes, render_notes(program, notes)):
            name = f"{instrument.replace(' ', '-')}/{note_name(pitch)}-v{velocity}.wav"
            audio.write(out / name, clip)
            rows.append([name, instrument, family, pitch, note_name(pitch), velocity])
            done += 1
            yield done
    write_labels_csv(out, ["file", "instrument", "family", "pitch", "note", "velocity"], rows)

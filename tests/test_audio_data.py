import json

import numpy as np
import pytest
import soundfile

from explorer.models.checkpoint import load_checkpoint
from explorer.data import load_dataset
from explorer.errors import ExplorerError
from explorer.modalities import get_modality

from conftest import run_cli


def write_clips(folder, n=12):
    """Real sound files in three formats, rates and channel counts: tones of different pitches."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        sr = (44100, 22050, 16000)[i % 3]
        t = np.arange(int(sr * (0.6 + 0.2 * (i % 4)))) / sr
        tone = 0.4 * np.sin(2 * np.pi * (220 + 40 * i) * t) * np.exp(-3 * t)
        data = np.stack([tone, 0.5 * tone], 1) if i % 2 else tone
        ext, fmt = (("wav", "WAV"), ("flac", "FLAC"), ("ogg", "OGG"))[i % 3]
        soundfile.write(folder / f"note{i:02d}.{ext}", data, sr, format=fmt)
    return folder


def test_audio_folder_is_mono_16k_one_second_with_names(tmp_path):
    ds = load_dataset(str(write_clips(tmp_path / "clips")), "audio")
    assert ds.values.shape == (12, 16000, 1) and ds.resolution == (16000,)
    assert ds.names[1] == "note01.flac"
    # a 0.6 s clip is zero-padded to 1 s; its tone survives resampling
    assert np.abs(ds.values[0, 9700:, 0]).max() == 0
    spectrum = np.abs(np.fft.rfft(ds.values[0, :9600, 0]))
    assert abs(np.argmax(spectrum) * 16000 / 9600 - 220) < 3


def test_broken_sound_file_is_named(tmp_path):
    folder = write_clips(tmp_path / "clips", n=3)
    (folder / "bad.wav").write_bytes(b"RIFF nonsense")
    with pytest.raises(ExplorerError, match="bad.wav"):
        load_dataset(str(folder), "audio")


def test_audio_wav_is_written_at_16k(tmp_path):
    audio = get_modality("audio")
    wave = np.sin(np.linspace(0, 100, 16000)).astype(np.float32) * 0.5
    audio.write(tmp_path / "x.wav", wave)
    back, sr = soundfile.read(tmp_path / "x.wav", dtype="float32")
    assert sr == 16000 and back.shape == (16000,) and np.abs(back - wave).max() < 1e-3


def test_an_audio_checkpoint_trains_and_reports_audio_metrics(tmp_path):
    folder = write_clips(tmp_path / "clips")
    out = tmp_path / "a.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "audio", "--audio-target", "waveform", "--preset", "tiny",
            "--steps", "10", "--out", str(out))
    ckpt = load_checkpoint(out)
    assert ckpt.modality["name"] == "audio" and ckpt.model_config.in_dim == 1
    result = json.loads(run_cli("eval", str(out), "--json", "--fit-steps", "5").stdout)
    assert {"mse", "stft_mse", "lsd"} <= set(result["train"])


notes_tools = pytest.mark.skipif(
    not __import__("shutil").which("fluidsynth") or not __import__("os").path.exists("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    reason="Debian packages fluidsynth and fluid-soundfont-gm are not installed (scripts/bootstrap.sh installs them)",
)


@notes_tools
def test_notes_are_real_instrument_notes_at_their_pitch(tmp_path):
    from explorer.data.notes import build_notes

    list(build_notes(tmp_path / "notes", programs=[0, 73], pitches=range(57, 60)))
    ds = load_dataset(str(tmp_path / "notes"), "audio")
    assert len(ds.names) == 6 and set(ds.labels["family"]) == {"keyboard", "flute"}
    for i, pitch in enumerate(ds.labels["pitch"]):
        x = ds.values[i, :, 0]
        assert 0.05 < np.abs(x).max() <= 1.0  # audible, not clipped away
        spectrum = np.abs(np.fft.rfft(x))
        f0 = 440 * 2 ** ((pitch - 69) / 12)
        # the fundamental is present: strong within a semitone of the expected frequency
        band = spectrum[int(f0 * 0.94) : int(f0 * 1.06) + 1]
        assert band.max() > 0.2 * spectrum.max()


@notes_tools
def test_the_notes_set_grows_by_family_and_an_older_notes_folder_rebuilds_as_it_was(tmp_path, monkeypatch):
    """``data build notes`` renders five instruments of each family now; ``--count N`` takes the first N, one
    family at a time; a folder built before its record named the count (ten instruments) rebuilds as it was,
    so the checkpoints trained on it keep their split."""
    import csv
    from collections import Counter

    from explorer.data.build import build, read_record, rebuild
    from explorer.data.notes import NOTES_PROGRAMS

    def families(folder):
        with open(folder / "labels.csv") as f:
            return Counter(row["family"] for row in csv.DictReader(f))

    assert len(NOTES_PROGRAMS) == 50 and len(set(NOTES_PROGRAMS)) == 50
    assert build("notes", tmp_path / "twelve", count=12) == 12 * 25
    grown = families(tmp_path / "twelve")
    assert len(grown) == 10 and grown["keyboard"] == grown["mallet"] == 50 and grown["flute"] == 25
    assert read_record(tmp_path / "twelve")["count"] == 12

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    older = rebuild({"build": "notes", "count": None, "resolution": None, "seed": 0})
    assert older.name == "notes" and families(older) == Counter({f: 25 for f in grown})
    twelve = sorted(p.relative_to(tmp_path / "twelve") for p in (tmp_path / "twelve").rglob("*.wav"))
    ten = sorted(p.relative_to(older) for p in older.rglob("*.wav"))
    assert set(ten) < set(twelve) and all((older / n).read_bytes() == (tmp_path / "twelve" / n).read_bytes()
                                          for n in ten[::25])


def test_spectrogram_target_turns_back_into_the_same_sound(tmp_path):
    """GEM's route: log magnitudes normalised per frequency, and back to a waveform by Griffin-Lim."""
    ds = load_dataset(str(write_clips(tmp_path / "clips")), "audio")
    audio = get_modality("audio", {"target": "spectrogram"})
    spec = audio.prepare(ds)
    assert spec.resolution == (257, 126) and spec.values.shape == (12, 257 * 126, 1)
    train = spec.values[~spec.is_test]  # normalised with the training items' statistics
    assert abs(float(train.mean())) < 0.01 and abs(float(train.std()) - 1) < 0.1
    assert audio.coords(spec.resolution).shape == (257 * 126, 2) and audio.in_dim == 2
    # the true spectrogram, heard: same pitch, a small spectral distance to the original
    import torch

    wave = audio.to_signal(torch.from_numpy(spec.values[:2]), spec.resolution)
    assert wave.shape == (2, 16000)
    spectrum = np.abs(np.fft.rfft(wave[0, :9600]))
    assert abs(np.argmax(spectrum) * 16000 / 9600 - 220) < 3
    m = audio.metrics(torch.from_numpy(spec.values[:2]), torch.from_numpy(spec.values[:2]),
                      signals=torch.from_numpy(spec.signals[:2]), resolution=spec.resolution)
    assert float(m["lsd"].max()) < 3.0 and float(m["spec_mse"].max()) == 0.0
    # the plug rebuilt from its stored options normalises the same way
    again = get_modality("audio", json.loads(json.dumps(audio.options())))
    assert np.allclose(again.prepare(ds).values, spec.values)


def test_a_quiet_decode_is_heard_at_the_clips_level_once_calibrated(tmp_path):
    """A spectrogram field learned by least squares on log magnitudes is heard a few dB quiet; when a run
    ends the plug measures that on the training decodes (``calibrate``) and lifts what it plays back."""
    import torch

    ds = load_dataset(str(write_clips(tmp_path / "clips")), "audio")
    audio = get_modality("audio", {"target": "spectrogram"})
    spec = audio.prepare(ds)
    f, frames = spec.resolution
    six_db = torch.log(torch.tensor(2.0)) / audio.norm.std  # 6 dB lower magnitudes, in normalised units
    quiet = torch.from_numpy(spec.values) - six_db.repeat_interleave(frames)[None, :, None]
    signals = torch.from_numpy(spec.signals)

    def heard():
        return float(audio.metrics(quiet, torch.from_numpy(spec.values), signals=signals,
                                   resolution=spec.resolution)["lsd"].mean())

    before = heard()
    train = torch.from_numpy(~spec.is_test)
    audio.calibrate(quiet[train], signals[train], spec.resolution)
    assert 5.5 < float(audio.gain.median()) < 8.0  # the 6 dB lost, and the little Griffin-Lim loses besides
    assert heard() < before - 2.0  # every clip, held out or not, sounds closer to its original
    again = get_modality("audio", json.loads(json.dumps(audio.options())))  # it travels in the checkpoint
    assert torch.allclose(again.gain, audio.gain, atol=1e-3)
    with pytest.raises(ExplorerError, match="audio gain"):
        get_modality("audio", audio.options() | {"gain": [99.0] * f})


def test_a_spectrogram_checkpoint_trains_and_is_measured_as_sound(tmp_path):
    folder = write_clips(tmp_path / "clips")
    out = tmp_path / "s.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "audio", "--preset", "tiny", "--steps", "10",
            "--out", str(out))  # the default target
    ckpt = load_checkpoint(out)
    assert ckpt.modality["options"]["target"] == "spectrogram" and ckpt.modality["resolution"] == [257, 126]
    assert ckpt.model_config.in_dim == 2 and len(ckpt.modality["options"]["norm"]["mean"]) == 257
    assert len(ckpt.modality["options"]["gain"]) == 257  # its level, measured when the run ended
    info = run_cli("info", str(out)).stdout
    assert "spectrogram field" in info
    result = json.loads(run_cli("eval", str(out), "--json", "--fit-steps", "5", "--max-items", "4").stdout)
    for split in ("train", "test"):
        assert {"mse", "stft_mse", "lsd", "spec_mse"} <= set(result[split])


def test_audio_target_is_refused_for_images(tmp_path, image_folder):
    proc = run_cli("train", "--data", str(image_folder), "--audio-target", "spectrogram", "--preset", "tiny",
                   "--out", str(tmp_path / "x.safetensors"), check=False)
    assert proc.returncode == 1 and "--audio-target is for audio" in proc.stderr


def test_eval_counts_decodes_on_pitch_next_to_the_real_clips(tmp_path):
    """``pitch_match``: how many decoded sounds a listener would hear at their labelled note."""
    import torch

    from explorer.data.folders import write_labels_csv
    from explorer.modalities.audio_metrics import on_pitch

    folder = tmp_path / "tones"
    folder.mkdir()
    rows = []
    for i, midi in enumerate(range(50, 62)):
        f0 = 440 * 2 ** ((midi - 69) / 12)
        t = np.arange(16000) / 16000
        tone = sum(0.3 / h * np.sin(2 * np.pi * h * f0 * t) for h in (1, 2, 3)) * np.exp(-2 * t)
        soundfile.write(folder / f"t{i:02d}.wav", tone, 16000)
        rows.append([f"t{i:02d}.wav", midi])
    write_labels_csv(folder, ["file", "pitch"], rows)
    ds = load_dataset(str(folder), "audio")
    waves = torch.from_numpy(ds.values[..., 0])
    assert on_pitch(waves, ds.labels["pitch"]).tolist() == [1.0] * 12
    # a semitone off is off pitch; silence is off pitch
    assert on_pitch(waves, [p + 1 for p in ds.labels["pitch"]]).sum() == 0
    assert on_pitch(torch.zeros(1, 16000), [60]).tolist() == [0.0]

    out = tmp_path / "s.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "audio", "--audio-target", "spectrogram",
            "--preset", "tiny", "--steps", "5", "--out", str(out))
    result = json.loads(run_cli("eval", str(out), "--json", "--fit-steps", "2").stdout)
    for split in ("train", "test"):
        assert result[split]["pitch_match_real"] == 1.0  # the estimator hears every real tone right
        assert 0.0 <= result[split]["pitch_match"] <= 1.0


@notes_tools
def test_pitch_of_real_organ_and_trumpet_notes_with_weak_fundamentals(tmp_path):
    """The soundfont's church organ and trumpet put more into the second harmonic than the fundamental
    (a three-harmonic product heard them an octave high): they are heard at their labelled pitch."""
    import torch

    from explorer.data.notes import build_notes
    from explorer.modalities.audio_metrics import on_pitch

    list(build_notes(tmp_path / "n", programs=[19, 56], pitches=range(57, 61)))
    ds = load_dataset(str(tmp_path / "n"), "audio")
    assert on_pitch(torch.from_numpy(ds.values[..., 0]), ds.labels["pitch"]).tolist() == [1.0] * 8

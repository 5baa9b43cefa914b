"""Audio (1 s at 16 kHz) as a neural field, with two selectable targets.

- ``waveform``: a field of time ``t`` in [-1, 1] -> amplitude (Zuiderveld thesis);
- ``spectrogram``: GEM's route (section 5): the log-magnitude STFT normalised per frequency, as a
  2-D field of ``(frequency, time)`` in [-1, 1]^2, turned back into sound by Griffin-Lim.

The target and, for spectrograms, the STFT sizes and per-frequency statistics are the plug's
``options()``; they travel in the checkpoint so that decodes are heard the way training saw them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

import numpy as np
import torch

from explorer.io.atomic import atomic_write_bytes
from explorer.errors import ExplorerError
from explorer.io.typed import need_float, need_int, need_list, show
from explorer.models.losses import reconstruction_loss
from explorer.modalities.audio_file import AUDIO_SUFFIXES, load_clip
from explorer.modalities.base import Observed, check_suffix
from explorer.modalities.audio_metrics import log_spectral_distance, multires_stft_mse, on_pitch, waveform_mse
from explorer.modalities.masks import time_mask
from explorer.modalities.pictures import log_spectrogram_of, spectrogram_picture
from explorer.modalities.spectrogram import EPS, GAIN_LIMIT_DB, FrequencyNorm, griffin_lim, level_gain, log_spectrogram

SAMPLE_RATE = 16000
TARGETS = ("waveform", "spectrogram")


def grid_2d(h: int, w: int) -> torch.Tensor:
    """Cell centres of an ``h x w`` grid, row-major, as ``(row, column)`` in ``[-1, 1]``: ``[h*w, 2]``."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w * 2 - 1
    return torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(-1, 2)


def overlap_morph(clips) -> np.ndarray:
    """One clip long: at each moment the sound of the frame the path has reached, overlap-added with
    Hann-shaped windows that sum to one (``clips [T, n]``)."""
    clips = np.asarray(clips, np.float64)
    t_frames, n = clips.shape
    if t_frames == 1:
        return clips[0].astype(np.float32)
    centres = np.linspace(0, n - 1, t_frames)
    half = (n - 1) / (t_frames - 1)
    x = np.arange(n)
    w = np.clip(1 - np.abs(x[None] - centres[:, None]) / half, 0, 1)
    w = np.sin(w * np.pi / 2) ** 2  # neighbouring windows add to one
    return ((w * clips).sum(0) / np.maximum(w.sum(0), 1e-9)).astype(np.float32)


class AudioModality:
    name = "audio"
    produces = ("sound",)
    """What an export of this part can hold (``core.export``)."""
    bf16_decode = False
    """``precision auto`` decodes sound in float32: measured on the shipped notes model, bfloat16 puts
    bins of the log-magnitude spectrogram up to 0.16 off (17 % in amplitude), and crossfaded exports
    then jump by more than any clip does."""
    sample_rate = SAMPLE_RATE
    signal_words = ("sound", "sounds")

    def __init__(self, target: str = "waveform", n_fft: int = 512, hop: int = 128, length: int = SAMPLE_RATE,
                 norm: dict | None = None, griffin_lim_iters: int = 64, sample_rate: int = SAMPLE_RATE,
                 gain: list | None = None) -> None:
        self.sample_rate = need_int(sample_rate, "audio sample_rate", 1000, 384_000)
        """16 kHz for this project's models; a person's own waveform decoder (``explorer.show``) may have another."""
        if target not in TARGETS:
            raise ExplorerError(f"unknown audio target {show(target)}; choose one of {', '.join(TARGETS)}")
        self.target = target
        self.n_fft = need_int(n_fft, "audio n_fft", 16, 16384)
        self.hop = need_int(hop, "audio hop", 1, self.n_fft)
        self.length = need_int(length, "audio length", 1, 1 << 22)
        self.norm = None if norm is None else FrequencyNorm.from_dict(norm, self.n_fft // 2 + 1)
        self.griffin_lim_iters = need_int(griffin_lim_iters, "audio griffin_lim_iters", 1, 10_000)
        self.gain = None if gain is None else self._checked_gain(gain)
        """``[F]`` dB added to each frequency of a decoded spectrogram before it is heard, measured on the
        training items when training ends (``calibrate``); None in checkpoints from before it."""

    def _checked_gain(self, gain) -> torch.Tensor:
        bins = self.n_fft // 2 + 1
        need_list(gain, "audio gain", bins, length=bins)
        return torch.tensor([need_float(v, "audio gain", -GAIN_LIMIT_DB, GAIN_LIMIT_DB) for v in gain], dtype=torch.float32)

    def check_resolution(self, resolution: tuple[int, ...]) -> None:
        if self.target == "waveform":
            if len(resolution) != 1:
                hint = " (a spectrogram's grid: are its options, with target \"spectrogram\", missing?)" if len(resolution) == 2 else ""
                raise ExplorerError(f"a waveform's resolution is [samples], not {list(resolution)}{hint}")
            return
        grid = (self.n_fft // 2 + 1, self.length // self.hop + 1)
        if tuple(resolution) != grid:
            raise ExplorerError(f"a spectrogram of {self.length} samples (n_fft {self.n_fft}, hop {self.hop}) is "
                                f"{list(grid)}, not {list(resolution)}")

    @property
    def preset_settings(self) -> dict:
        """What the ``small`` and ``base`` presets change for spectrogram fields (``train.config.preset``):
        32 clips x 1 024 of their 32 382 (frequency, time) cells per step, and a first-layer omega0 of
        90 — the harmonics of a note are a fine comb along the frequency axis, and at 2 000 steps on the
        notes omega0 90 gave a held-out log-spectral distance of 8.35 dB against 8.93 dB with the images'
        30 (``docs/recipe.md``); ``base`` runs 20 000 steps with the latents' learning rate at 0.01 instead of
        0.05: the ten-instrument set's 28 held-out notes measured LSD 7.78 dB against 8.34 dB at 0.05 and
        30 000 steps (``checkpoints/notes.md``, docs/recipe.md, 2026-12-05); and its hypernetwork writes
        rank-16 weight factors instead of 8: in 43 minutes the 28 held-out notes came to 7.51 dB against 7.78
        (docs/recipe.md, 2026-12-05, evening)."""
        if self.target == "waveform":
            return {}
        common = {"coords_per_signal": 1024, "batch_size": 32, "omega0_first": 90.0}
        return {"small": common, "base": common | {"steps": 20000, "latent_lr": 1e-2, "rank": 16}}

    @property
    def quick_signal_iters(self) -> int | None:
        """A spectrogram is heard first after 8 Griffin-Lim iterations; a waveform is its own sound."""
        return 8 if self.target == "spectrogram" else None

    @property
    def in_dim(self) -> int:
        return 1 if self.target == "waveform" else 2

    def options(self) -> dict:
        """What rebuilds this plug from a checkpoint (``get_modality("audio", options)``)."""
        if self.target == "waveform":
            return {"target": "waveform"} | ({"sample_rate": self.sample_rate} if self.sample_rate != SAMPLE_RATE else {})
        return {"target": "spectrogram", "n_fft": self.n_fft, "hop": self.hop, "length": self.length,
                "norm": None if self.norm is None else self.norm.to_dict()} | (
                    {"sample_rate": self.sample_rate} if self.sample_rate != SAMPLE_RATE else {}) | (
                    {} if self.gain is None else {"gain": [round(float(v), 3) for v in self.gain]})

    # --- dataset -> field values ---------------------------------------------------------------
    def prepare(self, dataset):
        """The dataset as this plug's field values (``field_of_waves``); the waveforms of a spectrogram
        field are kept in ``signals``."""
        if self.target == "waveform" or dataset.signals is not None:
            return dataset
        values, resolution, signals = self.field_of_waves(dataset.values[..., 0], dataset.is_test)
        return dataclasses.replace(dataset, values=values, resolution=resolution, signals=signals, exact=None)

    def field_of_waves(self, waves: np.ndarray, is_test) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
        """Waveforms ``[N, T]`` as field values ``[N, P, 1]``, their resolution and the waveforms kept beside
        them (None where they are the field). Waveforms are their own field; spectrograms are computed
        here, normalised per frequency with statistics of the training items (``is_test [N]`` False; fitted
        on the first call, kept afterwards)."""
        if self.target == "waveform":
            return waves[..., None], (waves.shape[1],), None
        if waves.shape[1] != self.length:
            raise ExplorerError(f"audio clips have {waves.shape[1]} samples; this model was trained on {self.length}")
        if isinstance(waves, np.memmap):  # a folder larger than memory: its spectrograms go to a file beside it
            return self._streamed_field(waves, is_test), self._frames_shape(), waves
        tensor = torch.from_numpy(waves)  # [N, T]
        log_mag = torch.cat([log_spectrogram(w, self.n_fft, self.hop) for w in tensor.split(256)])  # [N, F, frames]
        if self.norm is None:
            train = ~torch.from_numpy(np.asarray(is_test))
            self.norm = FrequencyNorm.fit(log_mag[train] if train.any() else log_mag)
        normed = self.norm.forward(log_mag)
        f, frames = normed.shape[1:]
        return normed.reshape(len(normed), -1, 1).numpy(), (f, frames), waves

    def _frames_shape(self) -> tuple[int, int]:
        return tuple(log_spectrogram(torch.zeros(1, self.length), self.n_fft, self.hop).shape[1:])

    def _streamed_field(self, waves: np.memmap, is_test, chunk: int = 256) -> np.memmap:
        """``field_of_waves`` of memory-mapped waveforms, a chunk at a time: the per-frequency statistics of
        the training items in one pass (float64 sums), the normalised spectrograms written in a second to a
        memory-mapped file keyed by the waveforms' file and this plug's settings (``io.decoded``)."""
        from explorer.io.decoded import derived_array

        f, frames = self._frames_shape()

        def spectra():
            for a in range(0, len(waves), chunk):
                yield a, log_spectrogram(torch.from_numpy(np.asarray(waves[a:a + chunk])), self.n_fft, self.hop)

        if self.norm is None:
            train = ~np.asarray(is_test, dtype=bool)
            if not train.any():
                train[:] = True
            total, total_sq, count = torch.zeros(f, dtype=torch.float64), torch.zeros(f, dtype=torch.float64), 0
            for a, log_mag in spectra():
                mine = log_mag[torch.from_numpy(train[a:a + len(log_mag)])].double()
                total += mine.sum(dim=(0, 2))
                total_sq += (mine * mine).sum(dim=(0, 2))
                count += mine.shape[0] * mine.shape[2]
            mean = total / count
            std = ((total_sq - count * mean * mean) / max(count - 1, 1)).clamp_min(0).sqrt()
            self.norm = FrequencyNorm(mean.float(), std.float().clamp_min(1e-3))

        def fill(out: np.ndarray) -> None:
            for a, log_mag in spectra():
                out[a:a + len(log_mag)] = self.norm.forward(log_mag).reshape(len(log_mag), -1, 1).numpy()

        ends = hashlib.sha256(np.asarray(waves[0]).tobytes() + np.asarray(waves[-1]).tobytes()).hexdigest()[:16]
        what = f"spectrogram {self.n_fft} {self.hop} {self.norm.to_dict()} of {len(waves)} from {ends}"  # a slice: its own
        return derived_array(Path(waves.filename), what, (len(waves), f * frames, 1), fill)

    def coords(self, resolution: tuple[int, ...]) -> torch.Tensor:
        """Waveform: sample centres ``t`` in ``[-1, 1]``, ``[n, 1]``. Spectrogram: ``(frequency, frame)``
        cell centres, ``[F*frames, 2]``."""
        if self.target == "waveform":
            (n,) = resolution
            return ((torch.arange(n, dtype=torch.float32) + 0.5) / n * 2 - 1)[:, None]
        return grid_2d(*resolution)

    file_suffix = ".wav"
    write_suffixes = (".wav",)

    read_suffixes = tuple(sorted(AUDIO_SUFFIXES))
    file_kind = "a sound"

    def read_file(self, path: Path, pipeline, part, invert: bool | None = None) -> Observed:
        """The sound's first clip length, mono at the plug's sample rate, as this plug's field (``field_of_waves``)."""
        resolution = tuple(pipeline.part_info(part)["resolution"])
        waves = load_clip(path, self.sample_rate, (resolution[0] if self.target == "waveform" else self.length) / self.sample_rate)[None]
        values, got, signals = self.field_of_waves(waves, np.zeros(1, dtype=bool))
        if tuple(got) != resolution:
            raise ExplorerError(f"{path.name}: the sound does not match the checkpoint's sampling")
        return Observed(part, torch.from_numpy(values), self.coords(resolution),
                        None if signals is None else torch.from_numpy(signals))

    dataset_reader = "sounds"
    """A folder of WAV/FLAC/OGG files."""

    def data_resolution(self, info: dict) -> int | None:
        return None

    def target_options(self, target: str | None, preset: str) -> dict | None:
        """The spectrogram field by default; the waveform one under the ``audio-waveform`` preset."""
        return {"target": target or ("waveform" if preset == "audio-waveform" else "spectrogram")}

    def export_memory(self, fmt: str, resolution: tuple[int, ...], options) -> tuple[int, int]:
        """Sound (WAV, MP4): a clip a frame (about a second), kept and joined."""
        return (int(self.sample_rate * 4 * 3), 0) if fmt in (".wav", ".mp4") else (0, 0)

    mask_kind = "time range"

    def hidden_mask(self, spec: str, resolution: tuple[int, ...], coords: np.ndarray) -> np.ndarray:
        """``[P]`` bool, True where hidden: a time range ``START:END`` in seconds of the clip."""
        samples = resolution[0] if len(resolution) == 1 else self.length  # a waveform's grid, or the STFT's clip
        return time_mask(spec, resolution, samples / self.sample_rate)

    def visible_part(self, values, hidden, resolution):
        return None  # a sound with a gap is not worth a file of its own

    def preview_resolution(self, resolution: tuple[int, ...]) -> tuple[int, ...]:
        """Sound is decoded whole even live (a quick Griffin-Lim comes first instead)."""
        return tuple(resolution)

    # pictures of a signal (hover thumbnails, contact sheets): log spectrograms
    def decoded_picture(self, pipeline, z: np.ndarray, part, grid: int) -> np.ndarray:
        if self.target == "spectrogram":  # the field is the spectrogram itself
            return spectrogram_picture(pipeline.values(z, part=part)[0, :, 0].numpy().reshape(pipeline.resolution(part)))
        return spectrogram_picture(log_spectrogram_of(pipeline.signal(z, part=part)[0]))

    def item_picture(self, data, i: int, grid: int) -> np.ndarray:
        if self.target == "spectrogram":
            return spectrogram_picture(data.values[i, :, 0].reshape(data.resolution))
        wave = data.signals[i] if data.signals is not None else data.values[i, :, 0]
        return spectrogram_picture(log_spectrogram_of(wave))

    def observed_picture(self, observed, resolution: tuple[int, ...], grid: int) -> np.ndarray:
        wave = observed.signals[0] if observed.signals is not None else observed.values[0, :, 0]
        return spectrogram_picture(log_spectrogram_of(np.asarray(wave, np.float32).reshape(-1)))

    is_sdf = False

    def to_signal(self, values: torch.Tensor, resolution: tuple[int, ...], iters: int | None = None) -> np.ndarray:
        """Field values ``[..., P, 1]`` -> waveform ``[..., n]`` in [-1, 1] (spectrograms through
        Griffin-Lim, ``iters`` iterations: fewer for a quick first sound)."""
        return self.to_wave(values, resolution, iters).numpy()

    def to_wave(self, values: torch.Tensor, resolution: tuple[int, ...], iters: int | None = None) -> torch.Tensor:
        v = values.detach().float().cpu()[..., 0]
        if self.target == "waveform":
            return v.clamp(-1.0, 1.0)
        if self.norm is None:
            raise ExplorerError("this spectrogram model has no per-frequency statistics; it cannot be turned into sound")
        magnitude = self._magnitude(self.norm.inverse(v.reshape(*v.shape[:-1], *resolution)))
        wave = griffin_lim(magnitude, self.n_fft, self.hop, self.length, iters=iters or self.griffin_lim_iters)
        return wave.clamp(-1.0, 1.0)

    def _magnitude(self, log_mag: torch.Tensor) -> torch.Tensor:
        """Linear magnitudes of log magnitudes ``[..., F, frames]``, at the level ``calibrate`` measured."""
        if self.gain is not None:
            log_mag = log_mag + (self.gain * (np.log(10.0) / 20.0))[:, None]
        return (torch.exp(log_mag) - EPS).clamp_min(0.0)

    def calibrate(self, pred: torch.Tensor, signals, resolution: tuple[int, ...]) -> None:
        """Set ``gain`` from decodes ``pred [B, P, 1]`` of training items and their clips ``signals [B, T]``
        (``spectrogram.level_gain``): what the trainer does when a run ends. Waveform fields are heard as
        they are."""
        if self.target == "waveform" or signals is None:
            return
        self.gain = None
        decoded = self.to_wave(pred, resolution)
        self.gain = level_gain(decoded, torch.as_tensor(signals), self.n_fft)

    def morph(self, decode, path: np.ndarray, seconds: float, resolution: tuple[int, ...]) -> np.ndarray:
        """One continuous sound of ``seconds`` whose latent moves along ``path [T, d]`` while it plays.

        Spectrogram fields: every STFT frame of the sound is decoded from the latent the path has reached
        at that moment, at the clip's own time stretched over the whole sound (a phase-vocoder stretch:
        the pitch stays where it is), then one Griffin-Lim over the whole. Waveform fields have no such
        time axis: their frames' clips are overlap-added (``overlap_morph``), one clip long.
        ``decode(z [B, d], coords [B, P, k]) -> values [B, P, 1]``."""
        path = np.asarray(path, np.float32)
        if self.target == "waveform":
            (n,) = resolution
            clips = decode(torch.from_numpy(path), self.coords((n,))[None].expand(len(path), -1, -1))
            return overlap_morph(self.to_signal(clips, (n,)))
        f, frames = resolution
        n = max(self.hop, int(round(seconds * self.sample_rate)))
        columns = n // self.hop + 1
        s = np.linspace(0.0, 1.0, columns)
        pos = s * (len(path) - 1)  # where along the path each output frame is, in path frames
        i = np.minimum(pos.astype(int), max(len(path) - 2, 0))
        w = (pos - i)[:, None].astype(np.float32)
        z = path[i] * (1 - w) + path[np.minimum(i + 1, len(path) - 1)] * w  # [columns, d]
        ys = (torch.arange(f, dtype=torch.float32) + 0.5) / f * 2 - 1
        xs = (torch.from_numpy(s.astype(np.float32)) * (frames - 1) + 0.5) / frames * 2 - 1  # the clip's time, stretched
        coords = torch.stack(torch.broadcast_tensors(ys[None, :], xs[:, None]), dim=-1)  # [columns, F, 2]
        values = decode(torch.from_numpy(z), coords)[..., 0].float().cpu()  # [columns, F]
        if self.norm is None:
            raise ExplorerError("this spectrogram model has no per-frequency statistics; it cannot be turned into sound")
        magnitude = self._magnitude(self.norm.inverse(values.T[None])[0])  # [F, columns]
        wave = griffin_lim(magnitude, self.n_fft, self.hop, n, iters=self.griffin_lim_iters)
        return wave.clamp(-1.0, 1.0).numpy()

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Training reconstruction loss: mean squared error (GEM eq. 4) on samples or normalised log magnitudes."""
        return reconstruction_loss(pred, target)

    def metrics(self, pred: torch.Tensor, target: torch.Tensor, signals: torch.Tensor | None = None,
                resolution: tuple[int, ...] | None = None, labels: dict | None = None) -> dict[str, torch.Tensor]:
        """Waveform MSE, multi-resolution STFT MSE and LSD (dB) per item (thesis section 5.8); with a
        ``pitch`` label (MIDI numbers, ``labels["pitch"]: [B]``) also ``pitch_match``, 1 where the decoded
        sound's fundamental is within half a semitone of it, and ``pitch_match_real``, the same
        estimator on the real clip (how far the estimator itself can be trusted on these sounds).

        ``pred, target: [B, P, 1]`` field values. A spectrogram field is measured as the sound it
        makes: Griffin-Lim of ``pred`` against the true waveforms ``signals [B, T]`` (or, without
        them, Griffin-Lim of ``target``); its own field MSE is added as ``spec_mse``.
        """
        out = {}
        if self.target == "waveform":
            p, t = pred[..., 0].float().clamp(-1, 1), target[..., 0].float()
        else:
            if resolution is None:
                raise ValueError("spectrogram metrics need the spectrogram resolution")
            p = self.to_wave(pred, resolution)
            t = torch.as_tensor(signals).float() if signals is not None else self.to_wave(target, resolution)
            out["spec_mse"] = ((pred.float() - target.float()) ** 2).flatten(1).mean(1).cpu()
        out |= {"mse": waveform_mse(p, t), "stft_mse": multires_stft_mse(p, t), "lsd": log_spectral_distance(p, t)}
        pitches = (labels or {}).get("pitch")
        if pitches is not None and all(isinstance(v, (int, float)) for v in pitches):
            out["pitch_match"] = on_pitch(p, pitches, self.sample_rate)
            out["pitch_match_real"] = on_pitch(t, pitches, self.sample_rate)
        return out

    def write(self, path: str | Path, wave: np.ndarray, subtype: str = "PCM_16") -> None:
        """Save a waveform as WAV at 16 kHz, atomically."""
        import soundfile

        check_suffix(path, self.write_suffixes)
        buf = io.BytesIO()
        soundfile.write(buf, np.asarray(wave, dtype=np.float32), self.sample_rate, format="WAV", subtype=subtype)
        atomic_write_bytes(path, buf.getvalue())

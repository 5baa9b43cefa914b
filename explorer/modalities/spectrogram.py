"""GEM's audio route (section 5): a log-magnitude spectrogram, normalised per frequency, and back.

``log_spectrogram`` turns waveforms into ``log(|STFT| + eps)``; ``FrequencyNorm`` standardises
each frequency row over a dataset (its statistics travel in the checkpoint); ``griffin_lim``
recovers a waveform from magnitudes alone with the fast Griffin-Lim iteration (Perraudin et al.
2013: momentum 0.99), written on ``torch.stft`` / ``torch.istft`` — no torchaudio.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.io.typed import need_dict, need_float, need_key, need_list
from explorer.modalities.audio_metrics import power_ratio_db

EPS = 1e-5


def _window(n_fft: int, device, dtype) -> torch.Tensor:
    return torch.hann_window(n_fft, device=device, dtype=dtype)


def stft(wave: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """``[..., T]`` -> complex ``[..., n_fft // 2 + 1, frames]`` (Hann window, centred)."""
    return torch.stft(wave, n_fft, hop_length=hop, window=_window(n_fft, wave.device, wave.dtype), center=True,
                      return_complex=True)


def istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    return torch.istft(spec, n_fft, hop_length=hop, window=_window(n_fft, spec.device, spec.real.dtype),
                       center=True, length=length)


def log_spectrogram(wave: torch.Tensor, n_fft: int = 512, hop: int = 128) -> torch.Tensor:
    """``[B, T]`` -> ``log(|STFT| + eps)``: ``[B, F, frames]``."""
    return torch.log(stft(wave, n_fft, hop).abs() + EPS)


@dataclass
class FrequencyNorm:
    """Per-frequency mean and standard deviation of log magnitudes (GEM: "normalised per frequency")."""

    mean: torch.Tensor  # [F]
    std: torch.Tensor  # [F]

    @classmethod
    def fit(cls, log_mag: torch.Tensor) -> "FrequencyNorm":
        """From ``[B, F, frames]``: statistics over items and frames."""
        return cls(log_mag.mean(dim=(0, 2)), log_mag.std(dim=(0, 2)).clamp_min(1e-3))

    def forward(self, log_mag: torch.Tensor) -> torch.Tensor:
        return (log_mag - self.mean[:, None]) / self.std[:, None]

    def inverse(self, normed: torch.Tensor) -> torch.Tensor:
        return normed * self.std[:, None] + self.mean[:, None]

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict, bins: int) -> "FrequencyNorm":
        """From stored ``{"mean": [...], "std": [...]}`` of ``bins`` frequencies each (finite; std > 0)."""
        need_dict(data, "audio norm")
        mean, std = (need_list(need_key(data, k, "audio norm"), f"audio norm: {k}", bins, length=bins) for k in ("mean", "std"))
        for v in mean:
            need_float(v, "audio norm: mean", -1e6, 1e6)
        for v in std:
            need_float(v, "audio norm: std", 1e-12, 1e6)
        return cls(torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32))


def griffin_lim(magnitude: torch.Tensor, n_fft: int, hop: int, length: int, iters: int = 64,
                momentum: float = 0.99, seed: int = 0) -> torch.Tensor:
    """Waveform ``[..., length]`` whose STFT magnitude approaches ``magnitude [..., F, frames]``."""
    gen = torch.Generator().manual_seed(seed)
    phase = torch.rand(magnitude.shape, generator=gen, dtype=magnitude.dtype) * 2 * torch.pi
    angles = torch.polar(torch.ones_like(magnitude), phase.to(magnitude.device))
    previous = torch.zeros_like(angles)
    for _ in range(iters):
        wave = istft(magnitude * angles, n_fft, hop, length)
        rebuilt = stft(wave, n_fft, hop)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        angles = accelerated / (accelerated.abs() + 1e-16)
        previous = rebuilt
    return istft(magnitude * angles, n_fft, hop, length)


GAIN_LIMIT_DB = 12.0
"""The most an output level correction lifts or lowers one frequency (``level_gain``)."""


def level_gain(decoded: torch.Tensor, real: torch.Tensor, n_fft: int, limit_db: float = GAIN_LIMIT_DB) -> torch.Tensor:
    """``[F]`` dB per frequency that brings the decoded clips' level to the real ones', from ``[B, T]``
    decodes (already through Griffin-Lim) and the clips they decode: the mean over clips of the ratio
    of their frame-averaged powers (``audio_metrics.power_ratio_db``, what the log-spectral distance
    measures) at the field's ``n_fft``, within ``±limit_db``. A spectrogram field fitted by mean squared
    error on log magnitudes, heard through Griffin-Lim, comes out a few dB quiet, most in the upper
    frequencies (docs/recipe.md, 2026-12-05); this is what lifts it back."""
    return power_ratio_db(decoded.float(), real.float(), n_fft).mean(dim=0).clamp(-limit_db, limit_db)

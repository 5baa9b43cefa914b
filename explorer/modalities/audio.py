"""Audio as a field over time: t in [-1, 1] -> amplitude (1 s at 16 kHz by default)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from explorer.core.atomic import atomic_write_bytes
from explorer.models.losses import reconstruction_loss
from explorer.modalities.audio_metrics import log_spectral_distance, multires_stft_mse, waveform_mse

SAMPLE_RATE = 16000


class AudioModality:
    name = "audio"
    in_dim = 1
    sample_rate = SAMPLE_RATE

    def coords(self, resolution: tuple[int]) -> torch.Tensor:
        """Sample times of ``n`` samples as ``t`` in ``[-1, 1]`` (sample centres): ``[n, 1]``."""
        (n,) = resolution
        return ((torch.arange(n, dtype=torch.float32) + 0.5) / n * 2 - 1)[:, None]

    def to_signal(self, values: torch.Tensor, resolution: tuple[int]) -> np.ndarray:
        """Field values ``[..., n, 1]`` -> waveform ``[..., n]`` clipped to [-1, 1]."""
        return np.clip(values.detach().float().cpu().numpy()[..., 0], -1.0, 1.0)

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Training reconstruction loss: mean squared error (GEM eq. 4)."""
        return reconstruction_loss(pred, target)

    def metrics(self, pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Waveform MSE, multi-resolution STFT MSE and LSD (dB) per item. ``pred, target: [B, n, 1]``."""
        p, t = pred[..., 0].float().clamp(-1, 1), target[..., 0].float()
        return {"mse": waveform_mse(p, t), "stft_mse": multires_stft_mse(p, t), "lsd": log_spectral_distance(p, t)}

    def write(self, path: str | Path, wave: np.ndarray, subtype: str = "PCM_16") -> None:
        """Save a waveform as WAV at 16 kHz, atomically."""
        import soundfile

        buf = io.BytesIO()
        soundfile.write(buf, np.asarray(wave, dtype=np.float32), self.sample_rate, format="WAV", subtype=subtype)
        atomic_write_bytes(path, buf.getvalue())

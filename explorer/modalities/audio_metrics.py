"""Audio quality metrics of the Zuiderveld thesis (section 5.8), on ``torch.stft`` (no torchaudio).

- waveform MSE (eq. 5.4);
- multi-resolution STFT MSE (eq. 5.2): mean over Hamming windows of 400, 800, 1600 and 3200
  samples of the MSE between STFT magnitudes;
- log-spectral distance (eq. 5.3) between the frame-averaged power spectra, in dB. The thesis
  writes the mean of squared log ratios and calls it dB; we take the usual root of the mean of
  squared ``10 log10`` ratios (Gray & Markel), which is in dB.
"""
from __future__ import annotations

import torch

STFT_SIZES = (400, 800, 1600, 3200)


def stft_magnitude(wave: torch.Tensor, n_fft: int) -> torch.Tensor:
    """``wave: [B, T]`` -> ``|STFT|: [B, n_fft // 2 + 1, frames]`` (Hamming window, hop n_fft / 4)."""
    window = torch.hamming_window(n_fft, device=wave.device, dtype=wave.dtype)
    spec = torch.stft(wave, n_fft, hop_length=n_fft // 4, window=window, center=True, return_complex=True)
    return spec.abs()


def waveform_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``[B, T]`` -> ``[B]``."""
    return ((pred - target) ** 2).mean(dim=1)


def multires_stft_mse(pred: torch.Tensor, target: torch.Tensor, sizes: tuple[int, ...] = STFT_SIZES) -> torch.Tensor:
    """``[B, T]`` -> ``[B]``: thesis eq. 5.2."""
    terms = [((stft_magnitude(pred, n) - stft_magnitude(target, n)) ** 2).mean(dim=(1, 2)) for n in sizes]
    return torch.stack(terms).mean(0)


def log_spectral_distance(pred: torch.Tensor, target: torch.Tensor, n_fft: int = 2048, eps: float = 1e-10) -> torch.Tensor:
    """``[B, T]`` -> ``[B]`` in dB: thesis eq. 5.3 on frame-averaged power spectra."""
    p_pred = (stft_magnitude(pred, n_fft) ** 2).mean(dim=2)
    p_true = (stft_magnitude(target, n_fft) ** 2).mean(dim=2)
    ratio_db = 10 * torch.log10((p_true + eps) / (p_pred + eps))
    return torch.sqrt((ratio_db**2).mean(dim=1))

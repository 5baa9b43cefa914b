import math

import numpy as np
import torch

from explorer.modalities.audio_metrics import log_spectral_distance
from explorer.modalities.spectrogram import FrequencyNorm, griffin_lim, log_spectrogram, stft

SR = 16000


def chord(n=SR):
    t = torch.arange(n) / SR
    env = torch.exp(-3 * t)
    return (env * (0.3 * torch.sin(2 * math.pi * 220 * t) + 0.2 * torch.sin(2 * math.pi * 330 * t)
                   + 0.1 * torch.sin(2 * math.pi * 1100 * t)))[None]


def test_griffin_lim_recovers_a_sound_from_its_magnitudes_alone():
    x = chord()
    mag = stft(x, 512, 128).abs()
    y = griffin_lim(mag, 512, 128, length=SR, iters=64)
    rebuilt = stft(y, 512, 128).abs()
    spectral_convergence = (torch.linalg.norm(rebuilt - mag) / torch.linalg.norm(mag)).item()
    assert spectral_convergence < 0.1
    assert log_spectral_distance(y, x).item() < 3.0
    # more iterations fit the magnitudes better
    y4 = griffin_lim(mag, 512, 128, length=SR, iters=4)
    assert torch.linalg.norm(stft(y4, 512, 128).abs() - mag) > torch.linalg.norm(rebuilt - mag)


def test_frequency_normalisation_round_trips_and_standardises_each_row():
    logs = log_spectrogram(torch.cat([chord(), 0.5 * chord(), torch.randn(1, SR) * 0.05]))
    norm = FrequencyNorm.fit(logs)
    z = norm.forward(logs)
    assert torch.allclose(z.mean(dim=(0, 2)), torch.zeros(z.shape[1]), atol=1e-4)
    assert torch.allclose(norm.inverse(z), logs, atol=1e-4)
    again = FrequencyNorm.from_dict(norm.to_dict(), logs.shape[1])
    assert torch.allclose(again.forward(logs), z, atol=1e-5)


def test_a_sounds_picture_is_landscape_in_colour_with_octaves_evenly_spaced():
    from explorer.modalities.pictures import log_spectrogram_of, spectrogram_picture

    t = np.arange(16000) / 16000
    wave = sum(np.sin(2 * np.pi * f * t) for f in (220, 440, 880)).astype(np.float32) / 3
    pic = spectrogram_picture(log_spectrogram_of(wave))
    h, w, _ = pic.shape
    assert w == 2 * h  # a strip of time, not a squeezed column
    assert np.abs(pic[..., 0] - pic[..., 2]).max() > 0.3  # colour, not grey
    loud = pic.mean(axis=(1, 2))[::-1]  # row brightness, lowest frequency first
    peaks = sorted(np.argsort(loud)[-12:])
    bands = [peaks[0]] + [b for a, b in zip(peaks, peaks[1:]) if b - a > 2]
    assert len(bands) == 3 and abs((bands[1] - bands[0]) - (bands[2] - bands[1])) <= 2  # octaves, evenly

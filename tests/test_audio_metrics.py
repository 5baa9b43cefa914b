import math

import numpy as np

import torch

from explorer.modalities.audio_metrics import log_spectral_distance, multires_stft_mse, waveform_mse

SR = 16000


def tone(freq, amp=0.5, n=SR):
    t = torch.arange(n) / SR
    return (amp * torch.sin(2 * math.pi * freq * t))[None]


def test_identical_signals_have_zero_distance():
    x = tone(440)
    assert waveform_mse(x, x).item() == 0
    assert multires_stft_mse(x, x).item() == 0
    assert log_spectral_distance(x, x).item() < 1e-6


def test_lsd_is_in_decibels_and_ignores_phase():
    x = tone(440)
    assert abs(log_spectral_distance(x * 0.5, x).item() - 20 * math.log10(2)) < 0.05  # half amplitude = 6.02 dB everywhere
    noise = torch.randn(1, SR, generator=torch.Generator().manual_seed(0)) * 0.1
    shifted = torch.roll(noise, 7, dims=1)  # a time shift: a big waveform error, the same power spectrum
    assert waveform_mse(shifted, noise).item() > 0.01
    assert log_spectral_distance(shifted, noise).item() < 0.5


def test_a_wrong_pitch_is_further_than_a_slightly_wrong_amplitude():
    x = tone(440)
    assert multires_stft_mse(tone(660), x) > multires_stft_mse(tone(440, 0.45), x)
    assert log_spectral_distance(tone(660), x) > log_spectral_distance(tone(440, 0.45), x)


def test_the_pitch_of_pure_rich_and_weak_fundamental_tones_is_their_own():
    """A pure sine has no harmonics for the harmonic product spectrum to find (220 Hz was heard at 110); a tone
    whose fundamental is 26 dB under its harmonics (an organ pipe) is still heard at the fundamental."""
    from explorer.modalities.audio_metrics import estimate_pitch, midi_of

    t = np.arange(16000) / 16000
    for f in (110.0, 220.0, 261.6, 330.0, 440.0, 587.3):
        pure = np.sin(2 * np.pi * f * t) * np.exp(-2 * t)
        rich = sum(np.sin(2 * np.pi * f * h * t) / h for h in range(1, 6))
        weak = sum(np.sin(2 * np.pi * f * h * t) * (0.05 if h == 1 else 1) for h in range(1, 5))
        for wave in (pure, rich, weak):
            assert abs(midi_of(estimate_pitch(wave)) - midi_of(f)) < 0.5, f

"""Every training latent decoded at some of a part's coordinates, kept from one fit to the next.

``fitting.closest_latents`` compares what is given with the decode of every training latent. Where a
part's coordinates are shared by all signals (an image's pixel grid, a spectrogram's cells), those decodes
depend on the latents, the field and the coordinates only, not on what is given: a ``BankDecodes`` kept by
its caller (``DecodePipeline.bank_decodes``, one per opened checkpoint) holds them, so that a second
completion or hallucination decodes only the coordinates the earlier ones did not (for Fashion-MNIST's
10 000 latents, seconds each time). It assumes that the fields and the latents it is asked about do not
change while it lives, as in a pipeline; a table that would grow past ``max_values`` floats starts again.
"""
from __future__ import annotations

import hashlib
import threading

import torch

from explorer.models.decode import decode_values
from explorer.models.precision import autocast


class BankDecodes:
    def __init__(self, max_values: int = 1 << 26) -> None:
        self.max_values = max_values
        """The most floats kept per table (256 MiB at the default)."""
        self._tables: dict[tuple, tuple[torch.Tensor, torch.Tensor | None]] = {}
        self._lock = threading.Lock()  # the app fits from worker threads
        self.decoded = 0
        """Coordinates decoded for every latent so far (what the cache did not already hold)."""

    @torch.no_grad()
    def columns(self, field, bank: torch.Tensor, coords: torch.Tensor, positions: torch.Tensor, precision: str = "fp32",
                chunk_points: int = 1 << 20) -> torch.Tensor:
        """``[N, len(positions), C]``: ``field``'s values for every latent of ``bank [N, d]`` at
        ``coords[positions]`` (``coords [P, k]``), decoding only the positions not decoded before."""
        key = (id(field), precision, _fingerprint(bank), _fingerprint(coords))
        positions = positions.to(torch.long).cpu()
        with self._lock:
            slots, values = self._tables.get(key, (torch.full((coords.shape[0],), -1, dtype=torch.long), None))
            missing = torch.unique(positions[slots[positions] < 0])
            if len(missing):
                if values is not None and bank.shape[0] * (values.shape[1] + len(missing)) * values.shape[2] > self.max_values:
                    slots, values = torch.full_like(slots, -1), None  # too many kept: start again
                    missing = torch.unique(positions)
                with autocast(precision, bank.device):
                    new = decode_values(field, bank, coords[missing.to(coords.device)], chunk_points).float()
                start = 0 if values is None else values.shape[1]
                slots[missing] = torch.arange(start, start + len(missing))
                values = new if values is None else torch.cat([values, new], 1)
                self.decoded += len(missing)
            self._tables[key] = (slots, values)
            return values[:, slots[positions].to(values.device)]



def _fingerprint(t: torch.Tensor) -> tuple:
    data = t.detach().float().contiguous().cpu().numpy().tobytes()
    return tuple(t.shape), str(t.device), hashlib.sha1(data).hexdigest()

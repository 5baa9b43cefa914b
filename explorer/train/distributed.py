"""Training one model in several processes (``torchrun``): which items each process owns, and the few
collectives the trainer needs.

The auto-decoder has two kinds of parameters. The network is the same in every process: its gradients are
summed over processes in one flat bucket after each backward pass (what ``DistributedDataParallel`` does; the
step calls the compiled fields of the model's parts rather than one wrapped module, so the trainer reduces
the bucket itself). The latent table, one row per training item, is sharded: process ``r`` of ``W`` owns the
items ``r, r + W, r + 2W, ...``, draws its share of each batch from them and alone optimises their rows, so no
``N x d`` gradient that is almost all zeros crosses the wire. L_LLE's neighbours are searched in a copy of the
whole table that every process refreshes by an all-gather every ``TrainConfig.table_sync_every`` steps (its
own rows are always current).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from explorer.errors import ExplorerError


@dataclass
class Group:
    """This process's place in a multi-process run."""

    rank: int
    world: int
    local_rank: int
    backend: str

    @property
    def leader(self) -> bool:
        """Rank 0: the process that writes files and prints."""
        return self.rank == 0


def from_env(device_kind: str = "cpu") -> Group | None:
    """The process group ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1), initialised — NCCL on
    GPUs, gloo on CPUs — or None for a run in one process."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return None
    import torch.distributed as dist

    backend = "nccl" if device_kind == "cuda" else "gloo"
    if not dist.is_initialized():
        try:
            dist.init_process_group(backend)
        except (RuntimeError, ValueError) as e:
            raise ExplorerError(f"could not join the {world}-process run ({backend}): {str(e).splitlines()[0]}") from e
    return Group(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), backend)


def own_items(n: int, group: Group | None) -> torch.Tensor:
    """``[n_own]`` the global indices of the items this process owns (all of them in one process)."""
    if group is None:
        return torch.arange(n)
    return torch.arange(group.rank, n, group.world)


def sum_gradients(params: list[torch.Tensor], flags: list[float], group: Group) -> list[float]:
    """Average the gradients of ``params`` over the processes (one all-reduce of a flat bucket, which also
    carries ``flags``: each is summed, so any process can ask all of them to stop or save). Returns the summed
    flags."""
    import torch.distributed as dist

    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    device = grads[0].device if grads else torch.device("cpu")
    bucket = torch.cat([g.reshape(-1).float() for g in grads] + [torch.tensor(flags, dtype=torch.float32, device=device)])
    dist.all_reduce(bucket)
    offset = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = (bucket[offset:offset + n] / group.world).reshape(g.shape).to(g.dtype)
        offset += n
    return bucket[offset:].tolist()


def gather_rows(rows: torch.Tensor, n: int, group: Group) -> torch.Tensor:
    """``[n, ...]``: every process's owned rows (``rows [n_own, ...]``, in ``own_items`` order) in global order."""
    import torch.distributed as dist

    most = (n + group.world - 1) // group.world
    padded = torch.zeros((most, *rows.shape[1:]), dtype=rows.dtype, device=rows.device)
    padded[: len(rows)] = rows
    pieces = [torch.empty_like(padded) for _ in range(group.world)]
    dist.all_gather(pieces, padded.contiguous())
    out = torch.empty((n, *rows.shape[1:]), dtype=rows.dtype, device=rows.device)
    for r, piece in enumerate(pieces):
        idx = torch.arange(r, n, group.world, device=rows.device)
        out[idx] = piece[: len(idx)]
    return out


def broadcast_parameters(params, group: Group) -> None:
    """Rank 0's values of ``params`` in every process (the same seed builds the same network, but a resumed
    or hand-edited run must not start out of step)."""
    import torch.distributed as dist

    with torch.no_grad():
        for p in params:
            dist.broadcast(p.data, 0)

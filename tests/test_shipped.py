"""Every shipped checkpoint opens, stays small, and has a model card with its command and metrics."""
import json

import pytest

from explorer.core.checkpoint import load_checkpoint
from explorer.core.shipped import DEFAULT_CHECKPOINT, shipped_checkpoints

from conftest import run_cli


def test_the_default_checkpoint_is_shipped():
    assert DEFAULT_CHECKPOINT.exists() and DEFAULT_CHECKPOINT in shipped_checkpoints()


@pytest.mark.parametrize("path", shipped_checkpoints(), ids=lambda p: p.name)
def test_shipped_checkpoint_is_small_documented_and_evaluated(path):
    assert path.stat().st_size <= 20_000_000
    ckpt = load_checkpoint(path)
    assert ckpt.train["command"].startswith("latent-explorer train") and ckpt.train["finished"]
    assert "eval" in ckpt.metrics and "test" in ckpt.metrics["eval"]
    card = path.with_suffix(".md").read_text()
    assert "latent-explorer train" in card and "latent-explorer eval" in card
    info = json.loads(run_cli("info", str(path), "--json").stdout)
    assert info["latents"]["count"] == ckpt.n_items
    assert f"{ckpt.metrics['eval']['test']['psnr']:.2f}" in card  # the card quotes the measured number

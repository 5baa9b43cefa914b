"""Every shipped checkpoint opens, stays small, and has a model card with its command and metrics."""
import json

import pytest

from explorer.models.checkpoint import load_checkpoint
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
    for quoted in headline_numbers(ckpt.metrics["eval"]["test"]):
        assert quoted in card  # the card quotes the measured numbers


def headline_numbers(test: dict) -> list[str]:
    """Held-out PSNR (images), LSD (sound) and IoU (shapes) as a model card writes them; per part if several."""
    if "psnr" not in test and "lsd" not in test and "iou" not in test:
        return [n for part in test.values() if isinstance(part, dict) for n in headline_numbers(part)]
    out = [f"{test[k]:.2f}" for k in ("psnr", "lsd") if k in test]
    return out + ([f"{test['iou']:.3f}"] if "iou" in test else [])


def test_every_modality_has_a_shipped_checkpoint():
    names = {load_checkpoint(p).modality["name"] for p in shipped_checkpoints()}
    assert names == {"image", "audio", "shape", "audiovisual"}

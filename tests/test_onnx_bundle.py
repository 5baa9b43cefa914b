"""ONNX decoder bundles: a PyTorch decoder exported as the README shows, opened like a checkpoint and
decoded by onnxruntime; files that hold more than one self-contained graph of standard operators are refused."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from conftest import run_cli
from explorer.errors import ExplorerError


class Blob(torch.nn.Module):
    """A decoder of someone else's: (x, y) in [0, 1], values in [0, 1]; a blob where z[:2] says, as bright as z[2]."""

    def __init__(self):
        super().__init__()
        self.width = torch.nn.Parameter(torch.tensor(0.01))

    def forward(self, z, coords):  # z [B, 3], coords [P, 2] -> [B, P, 1]
        d = ((coords[None, :, :] - z[:, None, :2]) ** 2).sum(-1, keepdim=True)
        return z[:, None, 2:3] * torch.exp(-d / self.width)


def export_bundle(folder, latents, meta, decoder=None, external=False):
    """What the README's page does: export with dynamic batch and point axes, write the latents and meta.json."""
    import warnings

    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter, which needs no onnxscript
        torch.onnx.export(decoder or Blob(), (torch.zeros(2, latents.shape[1]), torch.zeros(5, 2)), folder / "decoder.onnx",
                          input_names=["z", "coords"], output_names=["values"], dynamo=False,
                          dynamic_axes={"z": {0: "batch"}, "coords": {0: "points"}, "values": {0: "batch", 1: "points"}})
    save_file({"latents": torch.as_tensor(latents)}, folder / "latents.safetensors")
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


LATENTS = torch.tensor([[0.25, 0.75, 1.0], [0.8, 0.2, 0.5], [0.5, 0.5, 1.0], [0.3, 0.3, 0.8]])
META = {"kind": "image", "domain": {"size": [24, 24], "coords": [0, 1], "order": "xy", "range": [0, 1]},
        "names": ["tl", "br", "mid", "low"], "labels": {"corner": ["yes", "yes", "no", "no"]}}


def peak(picture):
    row, col = np.unravel_index(np.argmax(picture[..., 0]), picture.shape[:2])
    return np.array([(col + 0.5) / picture.shape[1], (row + 0.5) / picture.shape[0]])


def test_an_exported_decoder_opens_like_a_checkpoint_and_decodes_as_pytorch_does(tmp_path):
    from explorer.core.session import read_checkpoint

    folder = export_bundle(tmp_path / "bundle", LATENTS, META)
    for where in (folder, shutil_zip(folder, tmp_path / "bundle.zip")):
        opened = read_checkpoint(where)
        assert opened.ckpt.names == META["names"] and opened.ckpt.labels == META["labels"]
        pictures = opened.pipeline.signal(LATENTS.numpy())
        for z, picture in zip(LATENTS.numpy(), pictures):
            assert np.abs(peak(picture) - z[:2]).max() < 0.05 and abs(picture.max() - z[2]) < 0.1
        with torch.no_grad():  # the same numbers as the PyTorch module, through the domain's mapping
            coords = torch.rand(50, 2)
            want = Blob()(LATENTS, coords) * 2 - 1
            got = opened.pipeline.model(LATENTS, (coords * 2 - 1)[:, [1, 0]])  # ours are (y, x) in [-1, 1]
        assert torch.allclose(got, want, atol=1e-5)
    info = run_cli("export", str(folder), "--from", "tl", "--to", "br", "--frames", "3", "--out", str(tmp_path / "p.png"))
    assert info.returncode == 0 and (tmp_path / "p.png").stat().st_size > 0


def shutil_zip(folder, out):
    with zipfile.ZipFile(out, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"{folder.name}/{f.name}")
    return out


def test_fitting_through_an_onnx_decoder_says_it_cannot(tmp_path):
    from explorer.core.embed import embed_steps
    from explorer.core.session import read_checkpoint
    from explorer.modalities.base import Observed

    opened = read_checkpoint(export_bundle(tmp_path / "b", LATENTS, META))
    observed = Observed(None, torch.zeros(1, 4, 1), torch.zeros(4, 2))
    with pytest.raises(ExplorerError, match="gives no gradients"):
        next(embed_steps(opened.pipeline, observed, 5))


class Fixed(torch.nn.Module):
    def forward(self, z, coords):
        return (z[:, None, :1] + coords[None, :, :1]).expand(-1, -1, 1)


def test_bundles_that_are_not_self_contained_or_standard_are_refused_in_one_line(tmp_path):
    from explorer.core.onnx_bundle import read_bundle

    import onnx
    from onnx import helper

    ok = export_bundle(tmp_path / "ok", LATENTS, META)
    # weights in an external data file: refused (they could be read from anywhere)
    ext = export_bundle(tmp_path / "ext", LATENTS, META)
    model = onnx.load(ext / "decoder.onnx")
    onnx.save_model(model, ext / "decoder.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    # a custom operator: refused (it needs code)
    custom = export_bundle(tmp_path / "custom", LATENTS, META)
    model = onnx.load(custom / "decoder.onnx")
    model.graph.node.append(helper.make_node("Evil", ["values"], ["unused"], domain="my.ops"))
    onnx.save(model, custom / "decoder.onnx")
    # a fixed batch axis
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    torch.onnx.export(Fixed(), (torch.zeros(2, 3), torch.zeros(5, 2)), fixed / "decoder.onnx", dynamo=False,
                      input_names=["z", "coords"])
    for name in ("latents.safetensors", "meta.json"):
        (fixed / name).write_bytes((ok / name).read_bytes())
    bad_meta = export_bundle(tmp_path / "meta", LATENTS, META | {"kind": "video"})
    for folder, message in ((ext, "external data file"), (custom, "custom operators (my.ops::Evil)"),
                            (fixed, "fixed first axis of 2"), (bad_meta, "choose one of image, audio, shape")):
        with pytest.raises(ExplorerError) as e:
            read_bundle(folder)
        assert message in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_save_writes_another_decoder_as_a_bundle_that_opens(tmp_path):
    import explorer
    from explorer.core.session import read_checkpoint

    explorer.save(tmp_path / "mine", LATENTS, Blob(), "image", names=META["names"], domain=META["domain"])
    explorer.save(tmp_path / "mine.zip", LATENTS, lambda z, c: Blob()(z, c), "image", domain=META["domain"])
    for where in (tmp_path / "mine", tmp_path / "mine.zip"):
        pictures = read_checkpoint(where).pipeline.signal(LATENTS.numpy())
        assert all(np.abs(peak(p) - z[:2]).max() < 0.05 for z, p in zip(LATENTS.numpy(), pictures))
    with pytest.raises(ExplorerError, match="exists; choose a new folder"):
        explorer.save(tmp_path / "mine", LATENTS, Blob(), "image", domain=META["domain"])

"""latent-explorer: explore, train and decode the manifolds learned by neural-field auto-decoders.

From Python: ``explorer.show(latents, decoder, kind="image", domain={"size": (28, 28)})`` opens the app
on your own arrays and decoder (``core.own_model`` says what ``domain`` takes); ``explorer.save`` writes
them as a checkpoint (one of this project's decoders) or an ONNX bundle (any other).
"""

__version__ = "0.1.0"


def show(latents, decoder=None, kind: str = "image", names=None, labels=None, domain: dict | None = None,
         files=None, block: bool | None = None):
    """Open the app on ``latents [N, d]`` and ``decoder`` (a ``torch.nn.Module`` or any function
    ``f(z [B, d], coords [P, k] or [B, P, k]) -> [B, P, C]``) of ``kind`` "image", "audio" or "shape";
    ``domain`` says what the decoder's field means (``explorer.core.own_model``). ``names`` name the
    latents; ``labels`` is a list of one label per latent, or a dict of such lists. Returns when the
    window closes, or at once with the window where a Qt event loop already runs (a notebook after
    ``%gui qt``). A bad argument is an ``ExplorerError`` saying which, before any window opens.

    Without a decoder, ``files`` (one path per latent: pictures, sounds or meshes) are what frames show:
    each frame the item nearest to it (``explorer.core.plain_embeddings``)."""
    from explorer.core.own_model import checkpoint_from_python
    from explorer.ui.show import show_checkpoint

    if decoder is None:
        from pathlib import Path

        from explorer.core.plain_embeddings import plain_checkpoint

        ckpt = plain_checkpoint(latents, names, labels, None if files is None else [Path(f) for f in files], "explorer.show")
    else:
        ckpt = checkpoint_from_python(latents, decoder, kind, names, labels, domain)
    return show_checkpoint(ckpt, block)


def save(path, latents, decoder, kind: str | None = None, names=None, labels=None, domain: dict | None = None) -> None:
    """Write ``latents`` and ``decoder`` where ``latent-explorer PATH`` opens them: one of this project's fields
    (``explorer.models``) as a checkpoint file of its config and weights, any other decoder as an ONNX
    bundle (a folder, or a ZIP when ``path`` ends in ``.zip``; ``core.onnx_bundle.write_bundle``). ``kind``
    and ``domain`` describe its sampling as for ``show``."""
    from explorer.core.own_model import save_own

    save_own(path, latents, decoder, kind, names, labels, domain)

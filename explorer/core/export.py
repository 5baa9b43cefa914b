"""Export a path or walk: GIF, MP4, PNG contact strip, WAV, a zip of meshes, or a JSON bundle.

``export_steps`` is a generator (progress after every decoded frame; close it to cancel); the
file is written to a temporary name in the target folder and renamed when complete, so cancel, a
full disk or a permission error leave nothing behind. Images and meshes are decoded at the
requested resolution, never upscaled.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.io.atomic import atomic_path, atomic_write_bytes, check_writable
from explorer.errors import ExplorerError

FORMATS = (".gif", ".mp4", ".png", ".wav", ".zip", ".json")


NEEDS = {".gif": "pictures", ".mp4": "pictures", ".png": "pictures", ".wav": "sound", ".zip": "meshes"}
"""What a checkpoint must make (a plug's ``produces``) to be exported to each format; a path bundle needs nothing."""


def formats_for(makes) -> tuple[str, ...]:
    """The ``FORMATS`` a checkpoint whose parts make ``makes`` ("pictures", "sound", "meshes") can be exported to."""
    return tuple(f for f in FORMATS if f not in NEEDS or NEEDS[f] in makes)


@dataclass
class ExportOptions:
    resolution: int | None = None
    """Image side or SDF grid (default: images decoded with at least ``MIN_PICTURE`` pixels on the long
    side, shapes at 64)."""
    fps: float = 12.0
    loop: int = 0
    """GIF: times to loop (0 = for ever)."""
    pingpong: bool = False
    crossfade_ms: float = 50.0
    """WAV: equal-power crossfade between consecutive clips."""
    morph: bool = False
    """WAV: one continuous sound whose latent moves along the path while it plays, frames / fps seconds
    long (spectrogram fields; a waveform field's is one clip long)."""
    float_wav: bool = False
    mesh_format: str = "ply"
    render_size: int = 256
    """Shapes as pictures: pixels of the rendered frames."""


@dataclass
class ExportProgress:
    done: int
    total: int
    path: Path | None = None


def checkpoint_sha256(path) -> str:
    """SHA-256 of a checkpoint file, or of a bundle folder's files (their names and bytes, in name order)."""
    h = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(file.name.encode() + b"\0")
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def check_target(out: str | Path, force: bool) -> Path:
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise ExplorerError(f"{out}: unknown format {out.suffix or '(none)'}; use one of {', '.join(FORMATS)}")
    if out.exists() and not force:
        raise ExplorerError(f"{out} exists; add --force to overwrite it")
    if out.is_dir():
        raise ExplorerError(f"{out} is a folder; give a file name")
    check_writable(out.parent, f"could not write {out}")  # before the frames are decoded, not after
    return out


def equal_power_concat(clips: list[np.ndarray], sample_rate: int, crossfade_ms: float) -> np.ndarray:
    """Clips one after another, each overlapping the next by an equal-power (sin/cos) crossfade."""
    n = int(round(sample_rate * crossfade_ms / 1000))
    n = min(n, min(len(c) for c in clips) // 2)
    if n <= 0 or len(clips) == 1:
        return np.concatenate(clips)
    fade = np.linspace(0, np.pi / 2, n, dtype=np.float64)
    fade_in, fade_out = np.sin(fade), np.cos(fade)
    out = np.asarray(clips[0], np.float64).copy()
    for c in clips[1:]:
        c = np.asarray(c, np.float64)
        out[-n:] = out[-n:] * fade_out + c[:n] * fade_in
        out = np.concatenate([out, c[n:]])
    return out.astype(np.float32)


def _frames_order(n: int, pingpong: bool) -> list[int]:
    return list(range(n)) + (list(range(n - 2, 0, -1)) if pingpong and n > 2 else [])


def _to_uint8(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def export_steps(pipeline, latents: np.ndarray, out: str | Path, options: ExportOptions | None = None,
                 bundle: dict | None = None, force: bool = False) -> Iterator[ExportProgress]:
    """Decode every frame of ``latents [T, d]`` and write ``out`` in the format its extension names."""
    options = options or ExportOptions()
    out = check_target(out, force)
    fmt = out.suffix.lower()
    latents = np.asarray(latents, np.float32)
    total = len(latents)
    if fmt == ".json":
        if bundle is None:
            raise ExplorerError("a JSON bundle needs the path's description")
        with atomic_path(out, overwrite=force) as target:
            atomic_write_bytes(target, json.dumps(bundle, indent=1).encode())
        yield ExportProgress(total, total, out)
        return
    name = pipeline.ckpt.modality["name"]
    parts = pipeline.parts

    def part_making(what: str):
        return next((k for k, plug in parts.items() if what in plug.produces), "none")

    image_part, audio_part, mesh_part = part_making("pictures"), part_making("sound"), part_making("meshes")
    want_pictures = NEEDS.get(fmt) == "pictures"
    if want_pictures and image_part == "none":
        raise ExplorerError(f"{fmt} needs pictures; this {name} checkpoint makes sound: export .wav")
    if fmt == ".wav" and audio_part == "none":
        raise ExplorerError(f"this {name} checkpoint makes no sound; export .gif, .mp4, .png"
                            + (" or .zip" if mesh_part != "none" else ""))
    if fmt == ".zip" and mesh_part == "none":
        raise ExplorerError(".zip holds meshes; this checkpoint has no shapes")
    pictures, clips, meshes = [], [], []
    for i, z in enumerate(latents):
        if fmt == ".zip":
            meshes.append(parts[mesh_part].export_mesh(pipeline, z, mesh_part, options))
        elif want_pictures:
            pictures.append(_to_uint8(parts[image_part].export_picture(pipeline, z, image_part, options)))
        if (fmt == ".wav" and not options.morph) or (fmt == ".mp4" and audio_part != "none"):
            clips.append(pipeline.signal(z[None], part=audio_part)[0])
        yield ExportProgress(i + 1, total)
    # written under a temporary name, given the final one only if no other writer took it meanwhile
    with atomic_path(out, overwrite=force) as target:
        if fmt == ".gif":
            _write_gif(target, [pictures[i] for i in _frames_order(len(pictures), options.pingpong)], options)
        elif fmt == ".png":
            atomic_write_bytes(target, _png_bytes(np.concatenate(pictures, axis=1)))
        elif fmt == ".mp4":
            _write_mp4(target, [pictures[i] for i in _frames_order(len(pictures), options.pingpong)], options,
                       clips, pipeline)
        elif fmt == ".wav":
            sr = pipeline.parts[audio_part].sample_rate
            if options.morph:  # as long as the path plays at the frame rate, like the GIF of the same path
                wave = pipeline.morph_wave(latents, len(latents) / options.fps, part=audio_part)
            else:
                wave = equal_power_concat(clips, sr, options.crossfade_ms)
            _write_wav(target, wave, sr, options.float_wav)
        elif fmt == ".zip":
            _write_meshes(target, meshes, options.mesh_format)
    yield ExportProgress(total, total, out)


def _png_bytes(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def _write_gif(out: Path, frames: list[np.ndarray], options: ExportOptions) -> None:
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=int(round(1000 / options.fps)),
                   loop=options.loop, disposal=2, optimize=False)
    atomic_write_bytes(out, buf.getvalue())


def _write_wav(out: Path, wave: np.ndarray, sample_rate: int, float_wav: bool) -> None:
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, np.clip(wave, -1, 1), sample_rate, format="WAV", subtype="FLOAT" if float_wav else "PCM_16")
    atomic_write_bytes(out, buf.getvalue())


def _write_mp4(out: Path, frames: list[np.ndarray], options: ExportOptions, clips: list, pipeline) -> None:
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    # H.264 wants even sizes; small frames are scaled up by ffmpeg's nearest filter, not resampled here
    scale = max(1, int(np.ceil(256 / max(h, w))))
    vf = ["-vf", f"scale={w * scale}:{h * scale}:flags=neighbor"]
    with atomic_path(out) as tmp:
        audio_tmp = None
        try:
            if clips:  # the picture and the sound together: each frame's clip, cut to the frame's time
                sr = next(p for p in pipeline.parts.values() if "sound" in p.produces).sample_rate
                per = int(round(sr / options.fps))
                wave = np.concatenate([np.asarray(c)[:per] for c in clips])
                audio_tmp = tmp.with_suffix(".wav")
                _write_wav(audio_tmp, wave, sr, False)
            writer = imageio_ffmpeg.write_frames(str(tmp), (w, h), fps=options.fps, macro_block_size=1,
                                                 output_params=vf + ["-movflags", "+faststart"],
                                                 audio_path=str(audio_tmp) if audio_tmp else None,
                                                 audio_codec="aac" if audio_tmp else None, ffmpeg_log_level="error")
            writer.send(None)
            for f in frames:
                writer.send(np.ascontiguousarray(f))
            writer.close()
        except (OSError, RuntimeError) as e:
            raise ExplorerError(f"could not write {out}: {str(e).strip().splitlines()[-1] if str(e).strip() else e}") from e
        finally:
            if audio_tmp is not None and audio_tmp.exists():
                audio_tmp.unlink()


def _write_meshes(out: Path, meshes: list, mesh_format: str) -> None:
    import trimesh

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (v, f) in enumerate(meshes):
            mesh = trimesh.Trimesh(vertices=v, faces=f, process=False)
            z.writestr(f"frame-{i:04d}.{mesh_format}", mesh.export(file_type=mesh_format))
    atomic_write_bytes(out, buf.getvalue())


def export(pipeline, latents, out, options=None, bundle=None, force=False) -> Path:
    """``export_steps`` to the end."""
    from explorer.io.progress import run_to_end

    return run_to_end(export_steps(pipeline, latents, out, options, bundle, force), "the export").path

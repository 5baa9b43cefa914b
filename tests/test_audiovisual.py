"""Audio-visual checkpoints: one latent, an image field and an audio field (GEM fig. 1)."""
import json

import numpy as np
import pytest
import soundfile
import torch

from explorer.models.checkpoint import load_checkpoint
from explorer.data import load_dataset
from explorer.core.hallucinate import read_key
from explorer.data.av_notes import PICTURES, keyboard_layout, render_picture
from explorer.errors import ExplorerError
from explorer.models import MultiFieldConfig, build_model, model_config_from_dict
from explorer.train.fitting import FitPart, run_fit_parts

from conftest import run_cli
from test_audio_data import notes_tools


def write_pairs(folder, n=20):
    """X.png + X.wav pairs whose picture (a bar at a position) and tone (a pitch) share one factor."""
    from PIL import Image

    rows = [["file", "step"]]
    for i in range(n):
        sub = folder / ("low" if i < n // 2 else "high")
        sub.mkdir(parents=True, exist_ok=True)
        img = np.full((24, 24), 255, np.uint8)
        img[4:20, 2 + i : 4 + i] = 0
        Image.fromarray(img).save(sub / f"p{i:02d}.png")
        t = np.arange(16000) / 16000
        soundfile.write(sub / f"p{i:02d}.wav", 0.3 * np.sin(2 * np.pi * (200 + 30 * i) * t), 16000)
        rows.append([f"{sub.name}/p{i:02d}", str(i)])
    (folder / "labels.csv").write_text("\n".join(",".join(r) for r in rows) + "\n")
    return folder


def test_pairs_share_names_labels_and_split(tmp_path):
    ds = load_dataset(str(write_pairs(tmp_path / "av")), "audiovisual", resolution=24)
    assert ds.modality == "audiovisual" and set(ds.parts) == {"image", "audio"}
    assert ds.names[0] == "high/p10" and ds.labels["step"][0] == 10.0 and ds.labels["folder"][0] == "high"
    assert ds.parts["image"].values.shape == (20, 24 * 24, 1) and ds.parts["audio"].values.shape == (20, 16000, 1)
    test = ds.test()
    assert test.parts["audio"].names == test.names == test.parts["image"].names


def test_an_unpaired_file_is_named(tmp_path):
    folder = write_pairs(tmp_path / "av", n=4)
    (folder / "low" / "p01.wav").unlink()
    with pytest.raises(ExplorerError, match="p01.png has no partner"):
        load_dataset(str(folder), "audiovisual")


def test_multi_field_config_round_trips_and_shares_one_latent():
    from explorer.models import FieldConfig

    cfg = MultiFieldConfig({"image": FieldConfig(in_dim=2, latent_dim=8, hidden=16),
                            "audio": FieldConfig(in_dim=2, latent_dim=8, hidden=24)})
    again = model_config_from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.latent_dim == 8
    model = build_model(again)
    z = torch.randn(3, 8)
    assert model(z, torch.rand(5, 2), part="audio").shape == (3, 5, 1)
    with pytest.raises(ExplorerError, match="share one latent"):
        MultiFieldConfig({"image": FieldConfig(latent_dim=8), "audio": FieldConfig(latent_dim=4)})


def test_an_audiovisual_checkpoint_trains_evaluates_and_hallucinates(tmp_path):
    folder = write_pairs(tmp_path / "av")
    out = tmp_path / "av.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "audiovisual", "--preset", "tiny", "--steps", "30",
            "--resolution", "24", "--set", "audio.hidden=24", "--out", str(out))
    ckpt = load_checkpoint(out)
    assert set(ckpt.modality["parts"]) == {"image", "audio"}
    assert ckpt.modality["parts"]["audio"]["options"]["target"] == "spectrogram"  # GEM's route by default
    assert ckpt.model_config.parts["audio"].hidden == 24 and ckpt.model_config.parts["image"].hidden == 32
    assert ckpt.metrics["train_fit"]["image"]["psnr"] > 0 and ckpt.metrics["train_fit"]["audio"]["lsd"] > 0
    info = run_cli("info", str(out)).stdout
    assert "audiovisual part image: image 24x24" in info and "audio field: hyper" in info
    result = json.loads(run_cli("eval", str(out), "--json", "--fit-steps", "5", "--max-items", "4").stdout)
    for split in ("train", "test"):
        assert "psnr" in result[split]["image"] and "lsd" in result[split]["audio"]
    # fit on the picture alone; the shared latent then also decodes a sound (GEM fig. 8)
    model = ckpt.build_model()
    ds = load_dataset(str(folder), "audiovisual", resolution=24)
    from explorer.modalities import checkpoint_modality

    plug = checkpoint_modality(ckpt.modality)
    image = ds.parts["image"]
    coords = plug.parts["image"].coords(image.resolution)
    z = run_fit_parts(ckpt.latents, [FitPart(model.parts["image"], torch.from_numpy(image.values[:2]), coords)],
                      steps=5)
    res = tuple(ckpt.modality["parts"]["audio"]["resolution"])
    spec = model.parts["audio"](z, plug.parts["audio"].coords(res))
    assert plug.parts["audio"].to_signal(spec, res).shape == (2, 16000)


@pytest.mark.parametrize("picture", PICTURES)
def test_the_picture_marks_the_played_key(picture):
    layout = keyboard_layout()
    assert len(layout) == 25 and sum(not b for *_, b in layout.values()) == 15
    pics = {p: render_picture("disc", p, picture=picture) for p in (48, 60, 61, 72)}
    assert all(v.shape == (48, 48) for v in pics.values())
    marker_row = pics[48][int(0.58 * 48)]
    # the marker above the keyboard moves from left to right with the pitch, and reads back as its key
    centres = {p: np.argmin(pics[p][int(0.58 * 48)]) for p in pics}
    assert centres[48] < centres[60] < centres[72] and marker_row.min() < 0.5
    assert [read_key(pics[p]) for p in pics] == [0, 12, 13, 24]
    # same instrument: the glyph's rows are identical but for the beam; another instrument: they differ
    top = slice(0, 24)
    differ = (pics[48][top] != pics[72][top]).any(0)
    assert not differ.any() if picture == "marker" else 0 < differ.sum() <= 8
    assert not np.array_equal(render_picture("square", 48, picture=picture)[top], pics[48][top])


def test_in_beam_pictures_the_key_counts_as_much_as_the_instrument():
    """By pixel error, a "marker" picture's nearest other picture is always the same instrument at
    another key: nothing a fit to the picture alone could read a pitch from. In a "beam" picture it is
    often the same key on another instrument."""
    from explorer.data.av_notes import GLYPHS
    from explorer.data.notes import PITCHES

    for picture, least, most in (("marker", 0.0, 0.0), ("beam", 0.3, 0.9)):
        pics, keys = [], []
        for glyph in GLYPHS:
            for key, pitch in enumerate(PITCHES):
                pics.append(render_picture(glyph, pitch, picture=picture).ravel())
                keys.append(key)
        pics, keys = np.stack(pics), np.array(keys)
        d = ((pics[:, None] - pics[None]) ** 2).sum(-1)
        np.fill_diagonal(d, np.inf)
        same_key = float(np.mean(keys[d.argmin(1)] == keys))
        assert least <= same_key <= most, (picture, same_key)


def test_a_built_folder_records_its_drawing_and_an_older_one_rebuilds_as_it_was():
    from explorer.data.build import cache_folder, recorded_picture

    old = {"build": "av-notes", "count": None, "resolution": None, "seed": 0}
    new = old | {"picture": "beam"}
    assert recorded_picture(old) == "marker" and recorded_picture(new) == "beam"
    assert recorded_picture({"build": "notes"}) is None
    assert cache_folder(old).name == "av-notes" and cache_folder(new).name == "av-notes-picturebeam"


@notes_tools
def test_av_notes_builds_pictures_and_real_notes(tmp_path):
    from explorer.data.av_notes import build_av_notes

    assert list(build_av_notes(tmp_path / "av", programs=[0, 73], pitches=range(57, 60))) == [1, 2, 3, 4, 5, 6]
    ds = load_dataset(str(tmp_path / "av"), "audiovisual")
    assert len(ds.names) == 6 and set(ds.labels["glyph"]) == {"disc", "vbars"}
    assert ds.parts["image"].resolution == (48, 48) and ds.names[0] == "acoustic-grand-piano/A#3"
    x = ds.parts["audio"].values[0, :, 0]
    spectrum = np.abs(np.fft.rfft(x))
    f0 = 440 * 2 ** ((ds.labels["pitch"][0] - 69) / 12)
    assert spectrum[int(f0 * 0.94) : int(f0 * 1.06) + 1].max() > 0.2 * spectrum.max()

"""Sound in the window: waveform and spectrogram of the decode, playback through a real ALSA (file) device."""
import os
import subprocess
import sys
import textwrap

import numpy as np
from PySide6.QtCore import Qt
import pytest
import soundfile

from conftest import ROOT, run_cli, open_in


@pytest.fixture(scope="module")
def audio_checkpoint(tmp_path_factory):
    from test_audio_data import write_clips

    folder = write_clips(tmp_path_factory.mktemp("clips") / "clips")
    out = tmp_path_factory.mktemp("ckpt") / "audio.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "audio", "--audio-target", "spectrogram",
            "--preset", "tiny", "--steps", "20", "--out", str(out))
    return out


def _open(qtbot, checkpoint, size=None):
    """A window on the PCA map of ``checkpoint``, its preview drawn."""
    from explorer.ui.main_window import MainWindow

    w = MainWindow()
    w.pca_action.setChecked(True)
    qtbot.addWidget(w)
    if size:
        w.resize(*size)
    w.show()
    with qtbot.waitSignal(w.preview_ready, timeout=60_000):
        assert open_in(qtbot, w, checkpoint)
    return w


def test_audio_preview_shows_waveform_and_spectrogram_and_follows_the_path(qtbot, audio_checkpoint, tmp_path):
    from explorer.ui.previews import AudioPreview

    w = _open(qtbot, audio_checkpoint)
    p = w.preview
    assert isinstance(p, AudioPreview) and p.wave.shape == (16000,)
    xs, ys = p.wave_curve.getData()
    assert len(xs) == 16000 and abs(xs[-1] - 1.0) < 1e-3  # one second
    assert p.spec_image.image.shape == (257, 126)
    first = p.wave.copy()
    with qtbot.waitSignal(w.path_ready, timeout=60_000):
        w._on_path_requested(0, w.ws.ckpt.n_items - 1)
    with qtbot.waitSignal(w.preview_ready, timeout=60_000):
        w.timeline.set_position(1.0)
    assert not np.allclose(p.wave, first)
    # the export dialog of a sound checkpoint offers sound: .wav, crossfades, no picture size
    w.settings.setValue("export/ext/image", ".gif")  # a GIF exported from a picture checkpoint before
    dialog = w.open_export()
    assert dialog.file.text().endswith(".wav")
    assert dialog.crossfade.isEnabled() and dialog.morph.isEnabled() and not dialog.resolution.isEnabled()
    from PySide6.QtWidgets import QFormLayout

    label = dialog.layout().itemAt(0).layout().itemAt(0, QFormLayout.ItemRole.LabelRole).widget().text()
    assert label == "File (.wav .json)"  # only what it can write: no .gif offered and then refused
    dialog.file.setText(str(tmp_path / "path.gif"))
    dialog.start()
    assert "use one of .wav, .json" in dialog.status.text()
    dialog.close()
    w.shutdown()


def test_playing_the_timeline_plays_the_path_as_one_sound(qtbot, audio_checkpoint, tmp_path):
    w = _open(qtbot, audio_checkpoint)
    # no sound device in this process: PortAudio opened here on a machine without a sound card blocks
    # later tests; the device path is tested in a subprocess with ALSA writing to a file (below)
    w.sound.audio_out.unavailable = "no audio output (this test)"
    with qtbot.waitSignals([w.path_ready, w.preview_ready], order="strict", timeout=60_000):
        w._on_path_requested(0, w.ws.ckpt.n_items - 1)
    w.timeline.fps.setValue(16)
    with qtbot.waitSignal(w.sound.sounder.finished, timeout=120_000):
        qtbot.mouseClick(w.timeline.play, Qt.MouseButton.LeftButton)
        assert not w.timeline._timer.isActive()  # the playhead waits for the sound
    frames = len(w.ws.paths[w.ws.current].path.latents)
    assert len(w.sound.last_path_sound) == round((frames - 1) / 16 * 16000)  # as long as the path plays
    clips = w.ws.pipeline.signal(w.ws.paths[w.ws.current].path.latents[::8])
    assert np.abs(w.sound.last_path_sound).max() > 0.3 * np.abs(clips).max()  # as loud as the path's own clips
    # and as loud as the same path exported as one continuous sound: live and export do not differ in level
    from explorer.core.export import ExportOptions, export

    out = export(w.ws.pipeline, w.ws.paths[w.ws.current].path.latents, tmp_path / "path.wav",
                 ExportOptions(fps=16, morph=True, float_wav=True))
    exported, _ = soundfile.read(out)
    peak_db = lambda x: 20 * np.log10(np.abs(x).max())  # noqa: E731
    assert abs(peak_db(exported) - peak_db(w.sound.last_path_sound)) < 1.5  # (once: -2 against -18 dBFS)
    assert w.timeline._timer.isActive()
    qtbot.mouseClick(w.timeline.play, Qt.MouseButton.LeftButton)  # pause: the sound stops with it
    assert not w.timeline._timer.isActive()
    heard = w.sound.last_path_sound
    w.timeline.set_position(0.0)  # the same stretch again, as a loop plays it: no wait for a sound made anew
    qtbot.mouseClick(w.timeline.play, Qt.MouseButton.LeftButton)
    assert w.timeline._timer.isActive() and not w.sound.sounder.busy and w.sound.last_path_sound is heard
    w.timeline.fps.setValue(8)  # at another speed the sound is made again
    qtbot.mouseClick(w.timeline.play, Qt.MouseButton.LeftButton)
    w.timeline.set_position(0.0)
    with qtbot.waitSignal(w.sound.sounder.finished, timeout=120_000):
        qtbot.mouseClick(w.timeline.play, Qt.MouseButton.LeftButton)
    assert len(w.sound.last_path_sound) == 2 * len(heard)
    w.shutdown()


PLAY_SCRIPT = textwrap.dedent("""
    import os, sys, numpy as np
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from explorer.ui.main_window import MainWindow
    w = MainWindow(); w.pca_action.setChecked(True); w.show()
    done = []
    w.preview_ready.connect(lambda: done.append(1))
    w.open_checkpoint(sys.argv[1])
    while not done:
        app.processEvents()
    w.preview.volume.setValue(50)
    w.play_sound()
    w.sound.audio_out.wait()
    np.save(sys.argv[2], w.preview.wave)
    print("BANNER:" + (w.banner.text.text() if w.banner.isVisible() else ""))
    print("STATUS:" + w.statusBar().currentMessage())
    w.shutdown()
""")


def _play(tmp_path, ckpt, asound: str):
    conf = tmp_path / "asound.conf"
    conf.write_text(asound)
    script = tmp_path / "play.py"
    script.write_text(PLAY_SCRIPT)
    env = os.environ | {"ALSA_CONFIG_PATH": str(conf), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(script), str(ckpt), str(tmp_path / "wave.npy")], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


def test_play_sends_the_decoded_samples_to_the_audio_device(tmp_path, audio_checkpoint):
    out = tmp_path / "played.wav"
    proc = _play(tmp_path, audio_checkpoint, f"""
        pcm.!default {{
            type file
            slave.pcm {{ type null }}
            file "{out}"
            format "wav"
        }}
    """)
    assert proc.returncode == 0, proc.stderr
    played, sr = soundfile.read(out)
    wave = np.load(tmp_path / "wave.npy") * 0.5  # the volume slider at 50 %
    assert sr == 16000
    # the device got exactly the decoded clip (16-bit), after some leading silence
    k = int(np.argmax(np.correlate(played, wave, "valid")))
    assert np.abs(played[k : k + 16000] - wave).max() < 1e-3


def test_without_an_audio_device_the_app_says_so_and_goes_on(tmp_path, audio_checkpoint):
    # a default device on a sound card that is not there (as on a server or in CI)
    proc = _play(tmp_path, audio_checkpoint, "pcm.!default { type hw\n card 99 }\n")
    assert proc.returncode == 0, proc.stderr
    status = proc.stdout.split("STATUS:")[-1].strip()
    assert status.startswith("no audio output") and "\\n" not in status
    # in full in the banner above the map too, not only in the status bar where it was cut off
    banner = proc.stdout.split("BANNER:")[-1].split("\n")[0]
    assert banner == status


def test_in_a_small_window_the_side_panel_stays_narrow_and_the_volume_stays(qtbot, audio_checkpoint):
    w = _open(qtbot, audio_checkpoint, size=(1024, 600))
    qtbot.waitUntil(lambda: w.side.width() > 0)
    assert w.side.width() <= 300 < w.width() / 3
    assert w.preview.volume.isVisible() and w.preview.volume.width() >= 60
    w.shutdown()


def test_the_spectrogram_axes_show_their_end_labels_whole(qtbot):
    """The spectrogram fills its plot to the edges: its top frequency label ("8" kHz) used to be cut in half
    at the widget's top, and the time axis hid its "0"."""
    from PySide6.QtGui import QImage, QPainter

    from explorer.ui.previews import AudioPreview

    p = AudioPreview()
    qtbot.addWidget(p)
    p.resize(350, 480)
    p.show()
    t = np.arange(16000) / 16000
    p.show_signal(0.5 * np.sin(2 * np.pi * 440 * t), "a")
    qtbot.waitExposed(p)
    view = p.spec_view
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        labels = {}
        for side in ("left", "bottom"):
            axis = view.getAxis(side)
            for rect, _flags, text in axis.generateDrawSpecs(painter)[2]:
                labels[side, text] = view.mapFromScene(axis.mapRectToScene(rect)).boundingRect()
    finally:
        painter.end()
    top = labels["left", "8"]
    assert top.top() >= 0 and top.bottom() < view.height(), top
    assert ("bottom", "0") in labels, sorted(labels)

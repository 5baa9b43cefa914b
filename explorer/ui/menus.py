"""The window's menus, tool bar and shortcuts, made from the window's own slots; and the Help sheets,
made from the actions themselves so that they cannot go stale."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QLineEdit, QMessageBox, QToolBar

from explorer.core.session import TSNE_PARAMS
from explorer.core.shipped import shipped_checkpoints
from explorer.errors import ExplorerError
from explorer.ui.embedding import EMBED_STARTS

FIND_HELP = ("Items whose name or any label matches this regular expression stay bright, the rest are "
             "dimmed (Ctrl+F; empty: all). Examples: boot|sandal, ^train-000, trumpet")


def shipped_by_modality() -> list[tuple[Path, str]]:
    """The shipped checkpoints with their modality (read from each file's header only)."""
    from explorer.models.checkpoint import peek_metadata

    out = []
    for path in shipped_checkpoints():
        try:
            out.append((path, peek_metadata(path)["modality"]["name"]))
        except (ExplorerError, KeyError):
            continue
    order = {"image": 0, "audio": 1, "shape": 2, "audiovisual": 3}
    return sorted(out, key=lambda pm: (order.get(pm[1], 9), pm[0].name))


def build_menus(win) -> None:
    """File, Tools, View and Help menus, the path tool bar and the window's shortcuts, as ``win`` attributes."""
    bar = win.menuBar()
    file = bar.addMenu("&File")
    win.open_action = file.addAction("&Open…", win.choose_file, QKeySequence.StandardKey.Open)
    win.open_folder_action = file.addAction("Open a &folder (ONNX bundle, DeepSDF experiment)…", win.choose_folder,
                                            "Ctrl+Shift+O")
    win.recent_menu = file.addMenu("Open &Recent")
    examples = file.addMenu("&Examples")
    for path, modality in shipped_by_modality():
        examples.addAction(f"{path.stem} ({modality})", lambda p=path: win.open_checkpoint(p))
    win.import_action = file.addAction("&Import a DeepSDF experiment…", win.choose_import, "Ctrl+I")
    file.addAction("&Export path…", win.open_export, "Ctrl+E")
    file.addAction("E&mbed a signal…", win.choose_embed_file, "Ctrl+M")
    win.embed_closest_action = file.addAction(f"Embed from the {EMBED_STARTS} c&losest starts")
    win.embed_closest_action.setCheckable(True)
    win.embed_closest_action.setToolTip(f"Fit an embedded file {EMBED_STARTS} times at once, from the training latents "
                                        "whose decodes are closest to it, and keep the closest fit: closer for sounds (not for "
                                        f"garments), {EMBED_STARTS} times the work")
    win.embed_closest_action.setChecked(win.settings.integer("embed_starts", 1, 1, 64) > 1)
    win.embed_closest_action.toggled.connect(
        lambda on: win.settings.setValue("embed_starts", EMBED_STARTS if on else 1))
    file.addAction("Save the &map as an image…", win.choose_map_image, "Ctrl+Shift+S")
    file.addSeparator()
    file.addAction("&Quit", win.close, QKeySequence.StandardKey.Quit)
    tools_menu = bar.addMenu("&Tools")
    win.complete_action = tools_menu.addAction("&Complete a signal…", lambda: win.open_complete("complete"),
                                                "Ctrl+K")
    win.complete_action.setToolTip("Hide part of a signal and let the manifold fill it in, K ways (GEM 4.4)")
    win.hallucinate_action = tools_menu.addAction("&Hallucinate the other modality…",
                                                   lambda: win.open_complete("hallucinate"), "Ctrl+Shift+K")
    win.hallucinate_action.setToolTip("Audio-visual checkpoints: from a picture alone propose sounds, "
                                       "from a sound alone propose pictures")
    for a in (win.complete_action, win.hallucinate_action):
        a.setEnabled(False)
    tools_menu.addSeparator()
    view = bar.addMenu("&View")
    proj = QActionGroup(win)
    win.pca_action = view.addAction("PCA map", lambda: win.use_projection("pca"))
    win.tsne_action = view.addAction("t-SNE map", lambda: win.use_projection("tsne"))
    win.layout_action = view.addAction("Map from a &file…", win.choose_layout, "Ctrl+Shift+L")
    win.layout_action.setToolTip("Your own 2-D map of the training latents (UMAP, a figure's coordinates): "
                                 "an [N, 2] .npy, or two columns of a .csv/.tsv, one row per latent in their order")
    for a in (win.pca_action, win.tsne_action, win.layout_action):
        a.setCheckable(True)
        proj.addAction(a)
    win.tsne_action.setChecked(True)
    perp_menu = view.addMenu("t-SNE perplexity")
    pgroup = QActionGroup(win)
    for perp in (5, 15, 30, 50, 100):
        a = perp_menu.addAction(str(perp), lambda perp=perp: win._set_perplexity(perp))
        a.setCheckable(True)
        a.setChecked(perp == TSNE_PARAMS["perplexity"])
        pgroup.addAction(a)
    for title, key, choices in (("t-SNE early exaggeration", "exaggeration", (None, 2.0, 4.0, 12.0)),
                                ("t-SNE learning rate", "learning_rate", ("auto", 50.0, 200.0, 1000.0))):
        menu = view.addMenu(title)
        group = QActionGroup(win)
        for value in choices:
            label = "automatic" if value in (None, "auto") else f"{value:g}"
            a = menu.addAction(label, lambda key=key, value=value: win._set_tsne_param(key, value))
            a.setCheckable(True)
            a.setChecked(value in (None, "auto"))
            group.addAction(a)
    iter_menu = view.addMenu("t-SNE iterations")
    igroup = QActionGroup(win)
    for its in (250, 750, 1500, 3000):
        a = iter_menu.addAction(f"{its} (+ 250 early exaggeration)", lambda its=its: win._set_tsne_iterations(its))
        a.setCheckable(True)
        a.setChecked(its == TSNE_PARAMS["iterations"])
        igroup.addAction(a)
    view.addSeparator()
    win.hover_preview_action = view.addAction("Preview under the mouse")
    win.hover_preview_action.setCheckable(True)
    win.hover_preview_action.setShortcut("H")
    win.hover_preview_action.setToolTip("While hovering a point, the preview shows it instead of the playhead (H)")
    view.addSeparator()
    win.graph_action = view.addAction("Show k-NN &graph")
    win.graph_action.setCheckable(True)
    win.graph_action.setShortcut("G")
    win.graph_action.toggled.connect(win._toggle_graph)
    win.k_menu = view.addMenu("Neighbours k")
    kgroup = QActionGroup(win)
    for k in (3, 5, 10, 15, 20, 30):
        a = win.k_menu.addAction(str(k), lambda k=k: win._set_k(k))
        a.setCheckable(True)
        a.setChecked(k == win.ws.k)
        kgroup.addAction(a)
    view.addSeparator()
    win.fit_action = view.addAction("Zoom to &fit", win.map.zoom_to_fit, "F")
    win.fit_action.setToolTip("Every point in view (F)")
    size_menu = view.addMenu("Point size")
    opacity_menu = view.addMenu("Point opacity")
    win.map.set_point_style(win.settings.number("map/point_size", 6.0, 1, 40),
                             win.settings.number("map/point_opacity", 0.86, 0.05, 1))
    for menu, values, current, key in ((size_menu, (3, 6, 9, 12), win.map.point_size, "size"),
                                       (opacity_menu, (1.0, 0.86, 0.5, 0.25), win.map.point_opacity, "opacity")):
        group = QActionGroup(win)
        for v in values:
            a = menu.addAction(f"{v:g} px" if key == "size" else f"{round(100 * v)} %",
                               lambda v=v, key=key: win._set_point_style(key, v))
            a.setCheckable(True)
            a.setChecked(abs(v - current) < 1e-6)
            group.addAction(a)
    view.addSeparator()
    win.decoder_menu = view.addMenu("&Decoder")
    build_decoder_menu(win, win.decoder_menu)
    tools = QToolBar("Path")
    tools.setObjectName("path_toolbar")
    win.addToolBar(tools)
    group = QActionGroup(win)
    win.lerp_action = QAction("Lerp", win, checkable=True, shortcut="L",
                               toolTip="Straight line in latent space (L)")
    win.geo_action = QAction("Geodesic", win, checkable=True, shortcut="D",
                              toolTip="Shortest path through the data on the k-NN graph (D)")
    win.both_action = QAction("Compare both", win, checkable=True, shortcut="B",
                               toolTip="Draw the straight line and the geodesic together (B)")
    for a in (win.lerp_action, win.geo_action, win.both_action):
        group.addAction(a)
        tools.addAction(a)
    win.lerp_action.setChecked(True)
    win.switch_action = QAction("Preview the other path", win, shortcut="C", triggered=win.ws.switch_path,
                                 toolTip="With both paths drawn, see and hear the other one at the playhead (C)")
    tools.addAction(win.switch_action)
    tools.addSeparator()
    tools.addWidget(QLabel(" Colour by "))
    tools.addWidget(win.colour_by)
    win.find_field = QLineEdit()
    win.find_field.setPlaceholderText("Find: name or label (regex)")
    win.find_field.setClearButtonEnabled(True)
    win.find_field.setToolTip(FIND_HELP)
    win.find_field.setMaximumWidth(220)
    tools.addWidget(win.find_field)
    win.addAction(QAction("Find", win, shortcut=QKeySequence.StandardKey.Find,
                           triggered=lambda: (win.find_field.setFocus(), win.find_field.selectAll())))
    tools.addSeparator()
    win.walk_action = QAction("LLE walk", win, shortcut="W", triggered=win.walk_from_selection,
                               toolTip="Walk the manifold's locally linear regions from the selected point "
                                       "(GEM sampling) (W)")
    tools.addAction(win.walk_action)
    win.generate_action = QAction("Generate", win, shortcut="Ctrl+G", triggered=win.generate,
                                   toolTip="New samples: an LLE walk from a random training item (Ctrl+G); "
                                           "scrub to preview, Ctrl+D to keep one, Ctrl+E to export them")
    tools.addAction(win.generate_action)
    tools_menu.addAction(win.walk_action)
    tools_menu.addAction(win.generate_action)
    win.addAction(QAction("Bookmark", win, shortcut="Ctrl+D", triggered=win.bookmark_here))
    win.addAction(QAction("Save path", win, shortcut="Ctrl+S", triggered=win.save_current_path))
    win.addAction(QAction("Leave the Find box, close the message, show all points", win, shortcut="Esc",
                          triggered=win._escape))
    play = QAction("Play/Pause", win, shortcut="P", triggered=win.timeline.toggle)
    win.addAction(play)
    sound = QAction("Play sound", win, shortcut="Space", triggered=win.play_sound)
    win.addAction(sound)
    help_menu = win.menuBar().addMenu("&Help")
    win.shortcuts_action = help_menu.addAction("&Keyboard shortcuts", win.show_shortcuts, "F1")
    help_menu.addAction("&About latent-explorer", win.show_about)


def build_decoder_menu(win, menu) -> None:
    """Precision (auto / float32 / bfloat16) and compilation of the decoder, kept in the settings."""
    group = QActionGroup(win)
    win.precision_actions = {}
    current = win.decoder_precision()
    for key, text, tip in (
            ("auto", "Precision: automatic", "bfloat16 where this CPU or GPU has fast bfloat16 units, else float32"),
            ("fp32", "Precision: float32", "exact, slower"),
            ("bf16", "Precision: bfloat16", "mixed precision: matrix products in bfloat16, first layer and output "
                                            "in float32")):
        a = menu.addAction(text, lambda key=key: win.set_decoder(precision=key))
        a.setCheckable(True)
        a.setChecked(key == current)
        a.setToolTip(tip)
        group.addAction(a)
        win.precision_actions[key] = a
    menu.addSeparator()
    win.compile_action = menu.addAction("Compile the decoder")
    win.compile_action.setCheckable(True)
    win.compile_action.setChecked(win.decoder_compile() != "off")
    win.compile_action.setToolTip("torch.compile the decoder in the background after opening (seconds; "
                                   "cached for later runs): path decodes and exports run several times faster")
    win.compile_action.toggled.connect(lambda on: win.set_decoder(compile="auto" if on else "off"))
    menu.setToolTipsVisible(True)


def shortcut_table(win) -> list[tuple[str, str]]:
    """``[(keys, what it does)]`` of every action with a shortcut, menus and window alike, sorted by
    what it does: the Help sheet is made from the actions themselves, so it cannot go stale."""
    seen = {}
    for action in win.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and text:
            seen[(keys, text)] = None
    rows = list(seen) + [("F2", "Rename the selected bookmark or saved path"),
                         ("Home", "Reset the 3-D view (shapes)"),
                         ("Drag on the map", "From one point to another: a path"),
                         ("Shift+drag on the map", "Show only the items in a box"),
                         ("Ctrl+drag on the map", "Show only the items in a lasso"),
                         ("Mouse wheel", "Zoom the map")]
    return sorted(rows, key=lambda r: r[1].lower())


def text_box(win, title: str, html: str) -> QMessageBox:
    """A non-modal box of rich text with a Close button (Help's sheets)."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, title, html, QMessageBox.StandardButton.Close, win)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setModal(False)
    box.show()
    win.help_box = box
    return box


def show_shortcuts(win) -> QMessageBox:
    """Help ▸ Keyboard shortcuts (F1)."""
    rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{t}</td></tr>" for k, t in shortcut_table(win))
    return text_box(win, "Keyboard shortcuts", f"<table>{rows}</table>")


def show_about(win) -> QMessageBox:
    """Help ▸ About: the version, the open checkpoint and its model card."""
    from PySide6.QtCore import qVersion

    from explorer.version_info import version_lines

    first, *rest = version_lines(qVersion())
    text = (f"<b>{first}</b><br>Explore the manifolds learned by neural-field auto-decoders (GEM).<br><br>"
            + "<br>".join(rest))
    if win.ws.ckpt is not None and win.ws.path is None:
        text += (f"<br><br>Latents and decoder given from Python: {win.ws.ckpt.modality['name']}, "
                 f"{win.ws.ckpt.n_items} latents of {win.ws.latents.shape[1]} dimensions")
    elif win.ws.ckpt is not None:
        path = Path(win.ws.path)
        text += (f"<br><br>Checkpoint: {path}<br>{win.ws.ckpt.modality['name']}, {win.ws.ckpt.n_items} latents "
                 f"of {win.ws.latents.shape[1]} dimensions")
        card = path.with_suffix(".md")
        text += f"<br>Model card: {card}" if card.exists() else "<br>No model card beside the file."
    return text_box(win, "About latent-explorer", text)


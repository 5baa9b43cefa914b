"""The Qt-free session: what the app's views show, driven from a script."""
import json

import numpy as np

from explorer.core.session import Session, default_colour_label
from explorer.core.shipped import DEFAULT_CHECKPOINT


def test_a_session_drags_decodes_keeps_marks_and_comes_back_from_json():
    s = Session.open(DEFAULT_CHECKPOINT)
    seen = []
    s.paths_changed.connect(lambda: seen.append("paths"))
    s.marks_changed.connect(lambda: seen.append("marks"))
    entry = s.drag(3, 42, method="geodesic", compare=True)
    assert set(s.paths) == {"geodesic", "lerp"} and s.current == "geodesic"
    assert entry.path.nodes[0] == 3 and entry.path.nodes[-1] == 42
    frames = s.frames_signal()
    assert frames.shape[0] == s.frames and frames.shape[1:3] == (28, 28)
    assert np.abs(frames[1:] - frames[:-1]).mean() > 0  # the frames change along the path

    s.set_playhead(0.5)
    mark = s.bookmark_here()
    assert mark["name"] == f"bookmark 1: geodesic {s.item_name(3)} → {s.item_name(42)}, t=0.50"  # which path
    assert len(mark["latent"]) == s.latents.shape[1]
    s.walk(7)
    walk = s.save_current_path()
    assert walk["method"] == "walk" and walk["seed"] == s.walk_seed == 1
    first_walk = s.paths["walk"].path.latents.copy()
    s.set_colour_by(next(iter(s.ckpt.labels)))
    j = s.add_extra("mine.png", s.latents[5] * 0.5, "embedded")
    s.drag(j, 9, method="lerp")
    assert s.save_current_path()["a"] == j
    assert seen.count("marks") == 3

    state = json.loads(json.dumps(s.state()))  # what the app writes to disk
    again = Session.open(DEFAULT_CHECKPOINT)
    again.restore(state)
    assert [b["name"] for b in again.bookmarks] == [mark["name"]]
    assert len(again.extra) == 1 and again.colour_by == s.colour_by
    again.restore_path(again.saved_paths[0])  # the walk, remade exactly from its seed
    assert np.allclose(again.paths["walk"].path.latents, first_walk)
    again.remove_extra(0)  # the saved path that ends at it goes, the walk stays
    assert [p["method"] for p in again.saved_paths] == ["walk"]
    again.rename_mark("bookmark", 0, "the middle")
    again.remove_marks("path", [0])
    assert again.bookmarks[0]["name"] == "the middle" and not again.saved_paths


def test_a_restored_state_that_does_not_fit_the_checkpoint_is_dropped_not_fatal():
    s = Session.open(DEFAULT_CHECKPOINT)
    s.restore({"bookmarks": [{"name": "far", "index": 10**6}, {"name": "short", "latent": [0.0, 1.0]}, "junk"],
               "embedded": [{"name": "x", "latent": [1.0]}], "colour_by": "no such label", "paths": [None]})
    assert s.bookmarks == [] and s.extra == [] and s.saved_paths == []
    assert s.colour_by == default_colour_label(s.ckpt.labels)


def test_find_isolate_and_hide_pick_items_out_by_name_or_label():
    import pytest

    from explorer.errors import ExplorerError

    s = Session.open(DEFAULT_CHECKPOINT)
    classes = np.array(s.ckpt.labels["class"])
    n = s.find("ankle boot|sandal")
    assert n == int(np.isin(classes, ["Ankle boot", "Sandal"]).sum()) and n > 0
    assert np.array_equal(s.highlight, np.isin(classes, ["Ankle boot", "Sandal"]))
    assert s.find("^train-0000[0-4]$") == 5 and s.highlight[:5].all()  # names too
    with pytest.raises(ExplorerError, match="not a regular expression"):
        s.find("boot(")
    assert s.find("") == s.n_items and s.highlight is None
    s.isolate_label("class", "Bag")
    assert np.array_equal(s.highlight, classes == "Bag")
    s.isolate_label("class", "Bag")  # again: everything back
    assert s.highlight is None
    s.hide_label("class", "Bag")
    s.hide_label("class", "Shirt")
    assert np.array_equal(s.highlight, ~np.isin(classes, ["Bag", "Shirt"]))


def test_a_map_is_first_coloured_by_a_telling_label():
    from explorer.core.session import default_colour_label

    notes = {"folder": ["a", "b"] * 5, "instrument": ["piano", "flute"] * 5, "pitch": list(range(10))}
    assert default_colour_label(notes) == "instrument"
    assert default_colour_label({"pitch": list(range(100)), "class": ["x", "y"]}) == "class"
    assert default_colour_label({"folder": ["a", "b"]}) == "folder" and default_colour_label({}) == ""


def test_opening_reads_in_one_step_and_adopts_in_another_and_the_method_remakes_the_path():
    """The app reads a checkpoint in a worker (``read_checkpoint`` changes no session) and adopts it on its
    GUI thread; what was read is ready to explore: the PCA map and the spacing unit. The k-NN graph of the
    default checkpoint's 10 000 latents is not waited for (the app builds it after the map is shown); a
    geodesic asked for before it exists builds it."""
    from explorer.core.graph import knn_graph
    from explorer.core.session import read_checkpoint

    s = Session()
    events = []
    s.projection_changed.connect(lambda same: events.append("map"))
    opened = read_checkpoint(DEFAULT_CHECKPOINT, k=s.k)
    assert s.ckpt is None and not events  # nothing happened to the session yet
    assert opened.graph is None and opened.projection.method == "pca" and opened.spacing > 0
    s.adopt(opened)
    assert events == ["map"] and s.graph is None and s.n_items == opened.ckpt.n_items
    assert np.isclose(s.spacing, Session.open(DEFAULT_CHECKPOINT).spacing)  # the same unit as measured alone

    s.drag(3, 42, method="lerp")
    s.set_method("geodesic", compare=True)  # a new method remakes the path on the map, both drawn
    assert set(s.paths) == {"geodesic", "lerp"} and s.current == "geodesic" and s.paths["lerp"].a == 3
    s.drag(5, 6)
    assert set(s.paths) == {"geodesic", "lerp"}  # the session's method and compare hold for later drags

    g3 = knn_graph(s.latents, 3)
    s.set_graph(g3)
    assert s.k == 3 and s.graph is g3
    s.set_graph(knn_graph(s.latents[:50], 3))  # built for another map: ignored
    assert s.graph is g3

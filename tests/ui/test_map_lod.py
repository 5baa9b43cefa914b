"""A map of more points than scatter drawing keeps up with: a density image of the view while zoomed out,
the points themselves once few enough are in view; picking works either way."""
from __future__ import annotations

import numpy as np


def test_a_large_map_is_a_density_until_zoomed_in_to_its_points(qtbot):
    from explorer.ui.map_view import DENSITY_FROM, POINTS_IN_VIEW, MapView

    rng = np.random.default_rng(0)
    n = DENSITY_FROM + 10_000
    labels = rng.integers(2, size=n)
    xy = np.array([[-5.0, 0.0], [5.0, 0.0]])[labels] + rng.normal(size=(n, 2))
    rgb = np.array([[230, 25, 75], [0, 130, 200]], np.uint8)[labels]
    view = MapView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.set_points(xy, rgb)
    assert view.lod == "density" and view._density.isVisible() and not view._groups
    image = view._density.image  # [rows, cols, RGBA]
    left, right = image[:, : image.shape[1] // 3], image[:, 2 * image.shape[1] // 3:]
    lit_left, lit_right = left[left[..., 3] > 0], right[right[..., 3] > 0]
    assert lit_left[:, 0].mean() > 200 and lit_right[:, 2].mean() > 180  # red cluster left, blue right
    from PySide6.QtCore import QPointF

    i = int(np.argmin(np.linalg.norm(xy - [5, 0], axis=1)))
    assert view.point_at(QPointF(*xy[i])) == i  # picking and hovering find items in the density too
    # zoomed in on one cluster's edge: few enough points in view to draw them, and only those
    view._box.setRange(xRange=(6.5, 8.5), yRange=(-1, 1), padding=0)
    qtbot.waitUntil(lambda: view.lod == "points", timeout=5000)
    drawn = sum(len(item.data) for item in view._groups)
    (x0, x1), (y0, y1) = view._box.viewRange()  # the aspect lock widens one of the two ranges
    in_view = ((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)).sum()
    assert 0 < drawn == in_view <= POINTS_IN_VIEW and not view._density.isVisible()
    view.zoom_to_fit()
    qtbot.waitUntil(lambda: view.lod == "density", timeout=5000)


def test_a_layout_from_a_file_places_the_points_and_a_wrong_one_is_one_line(qtbot, tmp_path, tiny_checkpoint):
    from conftest import open_in
    from explorer.ui.main_window import MainWindow

    w = MainWindow()
    w.pca_action.setChecked(True)
    qtbot.addWidget(w)
    w.show()
    assert open_in(qtbot, w, tiny_checkpoint)
    n = w.ws.ckpt.n_items
    circle = np.stack([np.cos(np.arange(n) / n * 2 * np.pi), np.sin(np.arange(n) / n * 2 * np.pi)], 1) * 10
    np.save(tmp_path / "circle.npy", circle.astype(np.float32))
    assert w.load_layout(tmp_path / "circle.npy")
    assert np.allclose(w.map.xy, circle, atol=1e-5) and w.layout_action.isChecked()
    assert w.ws.projection.method == "layout"
    (tmp_path / "flat.csv").write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(n)))
    assert w.load_layout(tmp_path / "flat.csv") and np.allclose(w.map.xy[:, 1], 2 * np.arange(n))
    # a layout of the wrong size: one line in the window, the map as it was
    np.save(tmp_path / "short.npy", circle[:-1])
    errors = []
    w._show_error = errors.append
    assert not w.load_layout(tmp_path / "short.npy")
    assert f"needs [{n}, 2]" in errors[-1] and "\n" not in errors[-1]
    assert np.allclose(w.map.xy[:, 1], 2 * np.arange(n)) and w.layout_action.isChecked()
    w.shutdown()


def test_a_star_on_top_of_a_training_item_is_what_a_press_there_picks(qtbot):
    """A file embedded close to a training item (a good fit of an image like it) lands on or beside its point;
    the star is drawn over it, so a press on the star must start a path from the star, not from the item."""
    from PySide6.QtCore import QPointF

    from explorer.ui.map_view import MapView

    xy = np.random.default_rng(1).normal(size=(500, 2))
    view = MapView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_points(xy, np.full((500, 3), 128, np.uint8))
    px, _ = view._box.viewPixelSize()
    view.set_extra(xy[[7, 9]] + [[0.5 * px, 0.0], [200 * px, 0.0]])  # one star half a pixel off item 7, one far
    assert view.point_at(QPointF(*xy[7])) == 500  # the star, though item 7 is exactly there
    assert view.point_at(QPointF(*(xy[9] + [200 * px, 0.0]))) == 501
    assert view.point_at(QPointF(*xy[9])) == 9  # items away from every star are picked as before

"""The latent map: every latent a point (coloured by a label), the k-NN graph, paths, the playhead.

Drag from one point to another to ask for a path; hover a point for its name and a thumbnail;
click to select. Hit-testing uses a k-d tree over the projected points, so it stays instant
with 100 000 points; edges are drawn only while few enough are in view to help.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from scipy.spatial import cKDTree

from explorer.ui.palette import PATH_COLOURS

PICK_PIXELS = 10
MAX_EDGES_DRAWN = 12_000
"""Beyond this many edges in view, an even sample of them is drawn (zoom in to see every one)."""
LONG_EDGE = 0.1
"""An edge longer on the map than this fraction of the view's diagonal is drawn faint."""
MAX_LONG_EDGES_DRAWN = 2_000
"""At most this many faint edges are drawn (an even sample)."""
DENSITY_FROM = 50_000
"""Maps of more points than this draw them by level of detail: where more than ``POINTS_IN_VIEW`` are in
view, a density image (each pixel the mean colour of its points, its opacity growing with their number);
zoomed in further, the points themselves."""
POINTS_IN_VIEW = 20_000
DENSITY_PIXELS = 512
"""The density image's longer side, in cells."""
def cosmetic(colour: QColor, width: float = 1, style=Qt.PenStyle.SolidLine) -> QPen:
    """A pen whose width is in screen pixels at any zoom."""
    pen = QPen(colour, width, style)
    pen.setCosmetic(True)
    return pen




class _Marks(pg.ScatterPlotItem):
    """Points and markers that leave clicks to the map: a plain ScatterPlotItem takes a click on one of
    its points for itself, so clicking right on a point did not select it."""

    def mouseClickEvent(self, ev) -> None:
        ev.ignore()


def _leave_clicks(item: pg.PlotDataItem) -> pg.PlotDataItem:
    item.scatter.mouseClickEvent = lambda ev: ev.ignore()  # a path's frame markers, likewise
    return item


def inside_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """``[N]`` bool: which of the points ``xy [N, 2]`` lie inside the closed ``polygon [M, 2]`` (even-odd
    rule, so a lasso that crosses itself leaves out what it wraps twice)."""
    x, y = xy[:, 0:1], xy[:, 1:2]
    (x0, y0), (x1, y1) = polygon[:-1].T[:, None, :], polygon[1:].T[:, None, :]
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (np.count_nonzero(crosses & (x < at), axis=1) % 2) == 1


class _MapViewBox(pg.ViewBox):
    """Pans and zooms as usual, except that a drag starting on a point draws a path request."""

    def __init__(self, owner: "MapView") -> None:
        super().__init__(lockAspect=True)
        self.owner = owner
        self._lasso: list[tuple[float, float]] = []

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return super().mouseDragEvent(ev, axis)
        mods = ev.modifiers()
        if mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier):
            ev.accept()
            here = self.mapSceneToView(ev.scenePos())
            if mods & Qt.KeyboardModifier.ControlModifier:  # Ctrl+drag: a lasso, drawn freehand
                if ev.isStart() or not self._lasso:
                    down = self.mapSceneToView(ev.buttonDownScenePos())
                    self._lasso = [(down.x(), down.y())]
                self._lasso.append((here.x(), here.y()))
                outline = np.array(self._lasso + self._lasso[:1])
            else:  # Shift+drag: a box
                a = self.mapSceneToView(ev.buttonDownScenePos())
                xs, ys = sorted((a.x(), here.x())), sorted((a.y(), here.y()))
                outline = np.array([(xs[0], ys[0]), (xs[1], ys[0]), (xs[1], ys[1]), (xs[0], ys[1]), (xs[0], ys[0])])
            self.owner._box_outline.setData(outline[:, 0], outline[:, 1])
            if ev.isFinish():
                self._lasso = []
                self.owner._box_outline.setData([], [])
                self.owner.box_selected.emit(np.flatnonzero(inside_polygon(self.owner.xy, outline)))
            return
        if ev.isStart():
            self.owner._drag_from = self.owner.point_at(self.mapSceneToView(ev.buttonDownScenePos()))
        if self.owner._drag_from < 0:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        here = self.mapSceneToView(ev.scenePos())
        self.owner._show_rubber(self.owner._drag_from, here)
        if ev.isFinish():
            target = self.owner.point_at(here)
            start, self.owner._drag_from = self.owner._drag_from, -1
            self.owner._rubber.setData([], [])
            if target >= 0 and target != start:
                self.owner.path_requested.emit(start, target)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            i = self.owner.point_at(self.mapSceneToView(ev.scenePos()))
            if i >= 0:
                ev.accept()
                self.owner.point_clicked.emit(i)
                return
        super().mouseClickEvent(ev)


class MapView(pg.PlotWidget):
    point_clicked = Signal(int)
    point_hovered = Signal(int)
    path_requested = Signal(int, int)
    box_selected = Signal(object)
    """Shift+drag drew a box, or Ctrl+drag a lasso: the training items inside it (an index array)."""

    def __init__(self, parent=None) -> None:
        self._box = _MapViewBox(self)
        super().__init__(parent, viewBox=self._box, background="w")
        self.setMouseTracking(True)
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.getPlotItem().hideButtons()  # pyqtgraph's unexplained "A" (auto-range): View > Zoom to fit (F) does it
        self._drag_from = -1
        self.xy = np.zeros((0, 2), np.float32)
        """The training items' positions; extra points (embedded, kept) follow them as items ``len(xy) + j``."""
        self.extra_xy = np.zeros((0, 2))
        self.all_xy = self.xy
        self._tree: cKDTree | None = None
        self._edges = pg.PlotCurveItem(pen=cosmetic(QColor(150, 150, 150, 170), 1), connect="pairs")
        self._long_edges = pg.PlotCurveItem(pen=cosmetic(QColor(150, 150, 150, 18), 1), connect="pairs")
        self._edges_ij: tuple[np.ndarray, np.ndarray] | None = None
        self.show_edges = False
        self._groups: list[pg.ScatterPlotItem] = []
        self.point_size = 6.0
        self.point_opacity = 0.86
        self._rgb = np.zeros((0, 3), np.uint8)
        self._highlight: np.ndarray | None = None
        self._ghosts = _Marks(size=8, pen=cosmetic(QColor("#009E73"), 1.5), brush=QBrush(QColor(255, 255, 255, 0)))
        self._selected = _Marks(size=14, pen=cosmetic(QColor("black"), 2), brush=QBrush(QColor(0, 0, 0, 0)))
        # a bright fill no label uses and a dark edge: a star stands out in the densest cluster
        self._embedded = _Marks(size=26, symbol="star", pen=cosmetic(QColor("black"), 2.5),
                                brush=QBrush(QColor("#FF00CC")))
        self._neighbours = _Marks(size=13, pen=cosmetic(QColor("black"), 2), brush=QBrush(QColor(0, 0, 0, 0)))
        self._rubber = pg.PlotCurveItem(pen=cosmetic(QColor("#444444"), 2, Qt.PenStyle.DashLine))
        self._box_outline = pg.PlotCurveItem(pen=cosmetic(QColor("#444444"), 1, Qt.PenStyle.DashLine))
        self._paths: dict[str, pg.PlotDataItem] = {}
        self._halos: list = []
        """What is drawn with the paths besides their lines: white edges, end marks."""
        self._playhead = _Marks(size=16, symbol="o", pen=cosmetic(QColor("black"), 2), brush=QBrush(QColor("#F0E442")))
        # above the points (which are re-added on every redraw): edges under them, the rest over them
        for z, item in enumerate((self._ghosts, self._selected, self._neighbours, self._embedded, self._rubber,
                                  self._box_outline, self._playhead), start=5):
            item.setZValue(z)
        self._edges.setZValue(-1)
        self._long_edges.setZValue(-2)
        for item in (self._long_edges, self._edges, self._ghosts, self._selected, self._neighbours, self._embedded, self._rubber,
                     self._box_outline, self._playhead):
            self.addItem(item)
        self._edges.setVisible(False)
        self._long_edges.setVisible(False)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        # edges move with the view as they are; which ones to draw is decided once the view rests
        from PySide6.QtCore import QTimer

        self._edge_timer = QTimer(self, singleShot=True, interval=150)
        self._edge_timer.timeout.connect(self._update_edges)
        self._box.sigRangeChanged.connect(lambda *_: self._edge_timer.start())
        # a large map: a density image of the view, redrawn once the view rests (moved with it meanwhile)
        self._density = pg.ImageItem(axisOrder="row-major")
        self._density.setZValue(0)
        self._density.setVisible(False)
        self.addItem(self._density)
        self.lod = "points"
        """How the points are drawn now: "points", or "density" (a large map zoomed out)."""
        self._lod_timer = QTimer(self, singleShot=True, interval=150)
        self._lod_timer.timeout.connect(self._draw_points)
        self._box.sigRangeChanged.connect(lambda *_: self._lod_timer.start() if len(self.xy) > DENSITY_FROM else None)
        self._hovered = -1
        self.edges_in_view = 0

    # --- data ---------------------------------------------------------------------------------------
    DIMMED = 0.08
    """Opacity of the points a search or a legend click leaves out."""

    def set_points(self, xy: np.ndarray, rgb: np.ndarray | None = None, fit: bool = True,
                   highlight: np.ndarray | None = None) -> None:
        """Draw the training items at ``xy`` in colours ``rgb``; with a ``highlight`` mask, the others are
        dimmed (drawn beneath, nearly transparent)."""
        self.xy = np.asarray(xy, dtype=np.float64)
        self._rgb = np.full((len(self.xy), 3), 80, np.uint8) if rgb is None else np.asarray(rgb, np.uint8)
        self._highlight = None if highlight is None else np.asarray(highlight, bool)
        self._index_points()
        if fit:
            self._fit_range()
        self._draw_points()
        self._update_edges()

    def set_highlight(self, highlight: np.ndarray | None) -> None:
        """Dim every point outside ``highlight`` (None: none dimmed)."""
        self._highlight = None if highlight is None else np.asarray(highlight, bool)
        self._draw_points()

    def _fit_range(self) -> None:
        """The view on every point, with a small margin (from the points' extent: no item's bounds needed)."""
        if not len(self.all_xy):
            return
        lo, hi = self.all_xy.min(0), self.all_xy.max(0)
        pad = np.maximum((hi - lo) * 0.05, 1e-6)
        self._box.setRange(xRange=(lo[0] - pad[0], hi[0] + pad[0]), yRange=(lo[1] - pad[1], hi[1] + pad[1]), padding=0)

    def _draw_points(self) -> None:
        # one item per colour (and dimming), each with a single brush: per-point brush lists in pyqtgraph
        # 0.14 with PySide6 6.12 corrupt the reference count of None and crash the app after a few redraws
        for item in self._groups:
            self.removeItem(item)
        self._groups = []
        self._density.setVisible(False)
        self.lod = "points"
        if not len(self.xy):
            return
        lit = np.ones(len(self.xy), bool) if self._highlight is None else self._highlight
        which_points = slice(None)
        if len(self.xy) > DENSITY_FROM:  # level of detail: only what is in view, as a density where too many
            (x0, x1), (y0, y1) = self._box.viewRange()
            x, y = self.xy[:, 0], self.xy[:, 1]
            which_points = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
            if len(which_points) > POINTS_IN_VIEW:
                self._draw_density(which_points, lit, (x0, x1, y0, y1))
                return
        xy, rgb, lit = self.xy[which_points], self._rgb[which_points], lit[which_points]
        keys = np.concatenate([rgb, lit[:, None].astype(np.uint8)], axis=1)
        groups, which = np.unique(keys, axis=0, return_inverse=True)
        for g in sorted(range(len(groups)), key=lambda g: groups[g][3]):  # dimmed first: under the others
            r, gr, b, on = (int(v) for v in groups[g])
            alpha = self.point_opacity if on else self.DIMMED
            item = _Marks(pos=xy[which.ravel() == g], size=self.point_size, pxMode=True, pen=None,
                          brush=QBrush(QColor(r, gr, b, round(255 * alpha))))
            item.lit = bool(on)
            self.addItem(item)
            self._groups.append(item)

    def _draw_density(self, idx: np.ndarray, lit: np.ndarray, view: tuple[float, float, float, float]) -> None:
        """The points ``idx`` (those in ``view``) as an image: each cell the mean colour of its points, opaque in
        proportion to the log of their number (dimmed points count as ``DIMMED`` of one, in grey)."""
        from PySide6.QtCore import QRectF

        x0, x1, y0, y1 = view
        w_px, h_px = max(1, self.viewport().width()), max(1, self.viewport().height())
        scale = DENSITY_PIXELS / max(w_px, h_px)
        cols, rows = max(1, round(w_px * scale)), max(1, round(h_px * scale))
        cx = np.minimum(((self.xy[idx, 0] - x0) / max(x1 - x0, 1e-12) * cols).astype(np.int64), cols - 1)
        cy = np.minimum(((self.xy[idx, 1] - y0) / max(y1 - y0, 1e-12) * rows).astype(np.int64), rows - 1)
        cell = cy * cols + cx
        weight = np.where(lit[idx], 1.0, self.DIMMED)
        rgb = np.where(lit[idx, None], self._rgb[idx].astype(np.float64), 160.0)
        count = np.bincount(cell, weights=weight, minlength=rows * cols)
        image = np.zeros((rows * cols, 4), np.float64)
        for c in range(3):
            image[:, c] = np.bincount(cell, weights=weight * rgb[:, c], minlength=rows * cols) / np.maximum(count, 1e-12)
        image[:, 3] = 255 * self.point_opacity * np.clip(np.log1p(count) / np.log1p(max(count.max(), 1.0)) * 1.5, 0, 1)
        self._density.setImage(image.reshape(rows, cols, 4).astype(np.uint8), levels=(0, 255))
        self._density.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self._density.setVisible(True)
        self.lod = "density"

    def _index_points(self) -> None:
        # training items then extra points: what picking, selection and path requests index
        self.all_xy = np.concatenate([self.xy, self.extra_xy]) if len(self.extra_xy) else self.xy
        self._tree = None  # made at the first pick: a million points' tree costs half a second, and opening a
        # checkpoint sets the points several times (projection, colours, restored extras) before anyone points

    def _pick_tree(self) -> cKDTree | None:
        if self._tree is None and len(self.all_xy):
            self._tree = cKDTree(self.all_xy, balanced_tree=False)  # built in 0.5 s for 1M points instead of 0.7
        return self._tree

    def set_edges(self, i: np.ndarray | None, j: np.ndarray | None) -> None:
        self._edges_ij = None if i is None else (np.asarray(i), np.asarray(j))
        self._update_edges()

    def set_edges_visible(self, visible: bool) -> None:
        self.show_edges = visible
        self._update_edges()

    def _update_edges(self, *_) -> None:
        """Draw the k-NN edges with an end in view. Edges short on the map (under a tenth of the view's
        diagonal) are drawn as lines; longer ones, which join points that the 2-D map put apart and
        would cover a zoomed-in view with a grey mesh, only as a faint trace."""
        if not self.show_edges or self._edges_ij is None or not len(self.xy):
            self._edges.setVisible(False)
            self._long_edges.setVisible(False)
            return
        i, j = self._edges_ij
        (x0, x1), (y0, y1) = self._box.viewRange()
        a, b = self.xy[i], self.xy[j]
        inside = ((a[:, 0] >= x0) & (a[:, 0] <= x1) & (a[:, 1] >= y0) & (a[:, 1] <= y1)) | \
                 ((b[:, 0] >= x0) & (b[:, 0] <= x1) & (b[:, 1] >= y0) & (b[:, 1] <= y1))
        long = np.linalg.norm(a - b, axis=1) > LONG_EDGE * np.hypot(x1 - x0, y1 - y0)
        self.edges_in_view = int(inside.sum())
        for item, chosen, most in ((self._edges, inside & ~long, MAX_EDGES_DRAWN),
                                   (self._long_edges, inside & long, MAX_LONG_EDGES_DRAWN)):
            idx = np.flatnonzero(chosen)
            if len(idx) > most:  # too many at this zoom: an even sample, all of them once zoomed in
                idx = idx[np.linspace(0, len(idx) - 1, most).astype(int)]
            seg = np.empty((2 * len(idx), 2))
            seg[0::2], seg[1::2] = a[idx], b[idx]
            item.setData(seg[:, 0], seg[:, 1])
            item.setVisible(True)

    @property
    def long_edges_drawn(self) -> int:
        """How many edges are drawn faint, as too long on the map for this zoom."""
        item = self._long_edges
        return len(item.xData) // 2 if item.isVisible() and item.xData is not None else 0

    @property
    def edges_drawn(self) -> int:
        return len(self._edges.xData) // 2 if self._edges.isVisible() and self._edges.xData is not None else 0

    def set_selected(self, index: int) -> None:
        xy = self.all_xy
        self._selected.setData(pos=xy[[index]] if 0 <= index < len(xy) else np.zeros((0, 2)))

    def set_paths(self, paths: dict[str, np.ndarray], current: str = "") -> None:
        for item in list(self._paths.values()) + self._halos:
            self.removeItem(item)
        self._paths, self._halos = {}, []
        for name, xy in paths.items():
            colour = QColor(PATH_COLOURS.get(name, "#444444"))
            width = 3 if name == current else 2
            halo = pg.PlotDataItem(xy[:, 0], xy[:, 1], pen=cosmetic(QColor("white"), width + 3))
            halo.setZValue(3.9)  # a white edge: the path stands out from points of any colour
            item = _leave_clicks(pg.PlotDataItem(xy[:, 0], xy[:, 1], pen=cosmetic(colour, width), symbol="o",
                                                 symbolSize=4, symbolBrush=colour, symbolPen=None))
            item.setZValue(4)  # over the points, under the markers
            # where it ends, in its colour (its start is the selected point's ring; the end had no mark)
            end = _Marks(pos=xy[-1:], symbol="d", size=13, brush=colour, pen=cosmetic(QColor("white"), 1.5))
            end.setZValue(4.5)
            for it in (halo, item, end):
                self.addItem(it)
            self._paths[name] = item
            self._halos += [halo, end]

    def set_extra(self, xy: np.ndarray) -> None:
        """Points that are not training items (embedded signals, kept completions) as stars, pickable
        as items ``len(self.xy) + j``."""
        self.extra_xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self._embedded.setData(pos=self.extra_xy)
        self._index_points()

    def set_neighbours(self, items: list[int]) -> None:
        """Ring these training items (the nearest ones of a new point)."""
        self._neighbours.setData(pos=self.xy[list(items)] if len(items) else np.zeros((0, 2)))

    def set_ghosts(self, xy: np.ndarray | None) -> None:
        self._ghosts.setData(pos=np.zeros((0, 2)) if xy is None else xy)

    def set_playhead(self, xy: np.ndarray | None) -> None:
        self._playhead.setData(pos=np.zeros((0, 2)) if xy is None else np.asarray(xy).reshape(1, 2))

    # --- picking ------------------------------------------------------------------------------------
    def point_at(self, pos: QPointF) -> int:
        """The point within PICK_PIXELS of a view position, or -1. An extra point (a star: an embedded file, a
        kept completion) is drawn over the training items and wins over them there: a file embedded close to a
        training item is still the star a press lands on."""
        tree = self._pick_tree()
        if tree is None:
            return -1
        scale = np.array([max(v, 1e-12) for v in self._box.viewPixelSize()])
        at = np.array([pos.x(), pos.y()])
        if len(self.extra_xy):
            pixels = np.hypot(*((self.extra_xy - at) / scale).T)
            if pixels.min() <= PICK_PIXELS:
                return len(self.xy) + int(pixels.argmin())
        _, i = tree.query(at)
        return int(i) if np.hypot(*((self.all_xy[i] - at) / scale)) <= PICK_PIXELS else -1

    def set_point_style(self, size: float | None = None, opacity: float | None = None) -> None:
        """Point size in pixels and opacity (0 to 1) of the training items; redrawn at once."""
        self.point_size = self.point_size if size is None else float(size)
        self.point_opacity = self.point_opacity if opacity is None else float(opacity)
        if self.lod == "density":
            self._draw_points()
        for item in self._groups:
            colour = item.opts["brush"].color()
            colour.setAlpha(round(255 * (self.point_opacity if item.lit else self.DIMMED)))
            item.setSize(self.point_size)
            item.setBrush(QBrush(colour))

    def zoom_to_fit(self) -> None:
        """Every point in view (the map's own extent, with a small margin)."""
        self._fit_range()

    def save_image(self, path) -> None:
        """The map as drawn, to a PNG (at twice the widget's pixels) or an SVG; written to a temporary name
        and renamed, so a failure leaves nothing behind."""
        from pathlib import Path

        from pyqtgraph import exporters

        from explorer.errors import ExplorerError
        from explorer.io.atomic import atomic_path

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ExplorerError(f"{path.name}: save the map as .png or .svg")
        with atomic_path(path) as tmp:
            if suffix == ".png":
                exporter = exporters.ImageExporter(self.plotItem)
                exporter.parameters()["width"] = int(2 * max(1, self.width()))
            else:
                exporter = exporters.SVGExporter(self.plotItem)
            exporter.export(str(tmp))

    def view_to_widget(self, xy):
        """Viewport pixel position (``QPoint``) of a map position (for tests and tooltips)."""
        scene = self._box.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))
        return self.mapFromScene(scene)

    def _on_mouse_moved(self, scene_pos) -> None:
        i = self.point_at(self._box.mapSceneToView(scene_pos))
        if i != self._hovered:
            self._hovered = i
            self.point_hovered.emit(i)

    def _show_rubber(self, start: int, here: QPointF) -> None:
        a = self.all_xy[start]
        self._rubber.setData([a[0], here.x()], [a[1], here.y()])

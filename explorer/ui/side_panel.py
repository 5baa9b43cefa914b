"""Bookmarks (named points), saved paths and the extra points (embedded signals, kept completions) of
the open checkpoint, in a side panel: a view of the session's lists (``core.session``), which it
asks to rename or remove entries."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget


class SidePanel(QWidget):
    bookmark_activated = Signal(dict)
    path_activated = Signal(dict)
    renamed = Signal(str, int, str)
    """kind ("bookmark" or "path"), row, new name."""
    removed = Signal(str, list)
    """kind, rows."""
    extra_activated = Signal(int)
    nearest_activated = Signal(int)
    """A training item in the list of the selection's nearest ones was double-clicked."""
    extra_removed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.bookmarks = QListWidget()
        self.paths = QListWidget()
        for lst in (self.bookmarks, self.paths):  # F2 renames; a double-click only goes there
            lst.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        for kind, lst in (("bookmark", self.bookmarks), ("path", self.paths)):
            lst.itemChanged.connect(lambda it, kind=kind, lst=lst: self.renamed.emit(kind, lst.row(it), it.text()))
        self.add_bookmark = QPushButton("Bookmark")
        self.add_bookmark.setToolTip("Bookmark the selected point or the playhead (Ctrl+D)")
        self.remove_bookmark = QPushButton("Remove")
        self.save_path = QPushButton("Save path")
        self.save_path.setToolTip("Keep the current path (Ctrl+S)")
        self.remove_path = QPushButton("Remove")
        self.extra = QListWidget()
        self.extra.setToolTip("Signals embedded from files (Ctrl+M) and completions added to the map: "
                              "stars on the map, usable as path ends")
        self.remove_extra = QPushButton("Remove")
        self.nearest = QListWidget()
        self.nearest.setToolTip("The training items nearest to the selected point in latent space, with their "
                                "distance in neighbour spacings; double-click to go")
        for lst in (self.bookmarks, self.paths, self.extra, self.nearest):
            # a long name is cut at its end ("…"), whole in its tooltip, instead of a sideways scroll bar in the
            # narrow panel (cut in the middle, "kitchen/b…ts.ply" lost the part of a name that tells items apart)
            lst.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nearest_title = QLabel("<b>Nearest in latent space</b>")
        self.nearest_title.setWordWrap(True)
        layout = QVBoxLayout(self)
        for title, lst, buttons in (("<b>Bookmarks</b> (double-click to go, F2 to rename)", self.bookmarks,
                                     (self.add_bookmark, self.remove_bookmark)),
                                    ("<b>Saved paths</b>", self.paths, (self.save_path, self.remove_path)),
                                    ("<b>Embedded and kept</b> (double-click to go)", self.extra, (self.remove_extra,))):
            heading = QLabel(title)
            heading.setWordWrap(True)  # a long title wraps instead of widening the panel
            layout.addWidget(heading)
            layout.addWidget(lst, 1)
            row = QHBoxLayout()
            for b in buttons:
                row.addWidget(b)
            layout.addLayout(row)
        layout.addWidget(self.nearest_title)
        layout.addWidget(self.nearest, 1)
        self.nearest.itemDoubleClicked.connect(lambda it: self.nearest_activated.emit(it.data(Qt.ItemDataRole.UserRole)))
        self.bookmarks.itemDoubleClicked.connect(lambda it: self.bookmark_activated.emit(it.data(Qt.ItemDataRole.UserRole)))
        self.paths.itemDoubleClicked.connect(lambda it: self.path_activated.emit(it.data(Qt.ItemDataRole.UserRole)))
        self.remove_bookmark.clicked.connect(lambda: self._remove("bookmark", self.bookmarks))
        self.remove_path.clicked.connect(lambda: self._remove("path", self.paths))
        self.extra.itemDoubleClicked.connect(lambda it: self.extra_activated.emit(self.extra.row(it)))
        self.remove_extra.clicked.connect(self._remove_extra)

    def sizeHint(self):
        from PySide6.QtCore import QSize

        return QSize(230, 400)

    def _remove(self, kind: str, lst: QListWidget) -> None:
        rows = sorted(lst.row(it) for it in lst.selectedItems())
        if rows:
            self.removed.emit(kind, rows)

    def _remove_extra(self) -> None:
        for row in sorted((self.extra.row(it) for it in self.extra.selectedItems()), reverse=True):
            self.extra_removed.emit(row)

    def show_nearest(self, of: str, rows: list[tuple[int, str, float]], labels: list | None = None) -> None:
        """``rows``: ``(item, name, distance)``; ``labels``: a label per training item to show beside each."""
        self.nearest_title.setText(f"<b>Nearest to {of}</b>" if of else "<b>Nearest in latent space</b>")
        self.nearest.clear()
        for j, name, d in rows:
            extra = f", {labels[j]}" if labels is not None else ""
            it = QListWidgetItem(f"{d:.2f}  {name}{extra}")  # the distance first: a long name is cut, not it
            it.setToolTip(f"{name}{extra}: {d:.2f} neighbour spacings away")
            it.setData(Qt.ItemDataRole.UserRole, j)
            self.nearest.addItem(it)

    def show_extra(self, names: list[str]) -> None:
        self.extra.clear()
        for name in names:
            QListWidgetItem(name, self.extra).setToolTip(name)

    @staticmethod
    def _add(lst: QListWidget, entry: dict) -> None:
        it = QListWidgetItem(entry["name"])
        it.setToolTip(entry["name"])
        it.setData(Qt.ItemDataRole.UserRole, entry)
        it.setFlags(it.flags() | Qt.ItemFlag.ItemIsEditable)
        lst.addItem(it)

    def entries(self, kind: str) -> list[dict]:
        lst = self.bookmarks if kind == "bookmark" else self.paths
        out = []
        for i in range(lst.count()):
            it = lst.item(i)
            out.append(dict(it.data(Qt.ItemDataRole.UserRole)) | {"name": it.text()})
        return out

    def load(self, bookmarks: list[dict], paths: list[dict]) -> None:
        for lst, entries in ((self.bookmarks, bookmarks), (self.paths, paths)):
            lst.blockSignals(True)
            lst.clear()
            for e in entries:
                self._add(lst, e)
            lst.blockSignals(False)

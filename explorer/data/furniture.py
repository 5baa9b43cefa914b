"""The Sweet Home 3D furniture catalogue from Debian's ``sweethome3d-furniture`` as a mesh folder.

Each ``.sh3f`` file is a zip holding OBJ models and a Java properties catalogue
(``name#N``, ``category#N``, ``model#N``, ...). ``build_furniture`` writes every model it can read
as ``category/name.ply`` plus a ``labels.csv`` (category, name, catalogue); the mesh-folder
loader then normalises them and samples signed distances (winding numbers: open models work).
"""
from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from explorer.io.atomic import atomic_write_bytes
from explorer.data.folders import require_empty_folder, write_labels_csv
from explorer.errors import ExplorerError

CATALOG_DIR = Path("/usr/share/sweethome3d/furniture")


def parse_properties(text: str) -> dict[str, str]:
    """Java ``.properties``: ``key=value`` lines, ``#`` comments, backslash escapes (``\\uXXXX``)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        try:
            value = codecs.decode(value.strip(), "unicode_escape")
        except UnicodeDecodeError:
            value = value.strip()
        out[key.strip()] = value
    return out


def catalog_items(path: Path) -> list[dict]:
    """``[{name, category, model, catalog}]`` of one ``.sh3f`` catalogue."""
    with zipfile.ZipFile(path) as z:
        props = parse_properties(z.read("PluginFurnitureCatalog.properties").decode("latin-1"))
    items = []
    for key, model in props.items():
        m = re.fullmatch(r"model#(\d+)", key)
        if m:
            n = m.group(1)
            items.append({"name": props.get(f"name#{n}", f"item {n}"), "category": props.get(f"category#{n}", "other"),
                          "model": model.lstrip("/"), "catalog": path.stem})
    return items


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "item"


def build_furniture(out: str | Path, catalogs: list[Path] | None = None, max_items: int | None = None) -> Iterator[int]:
    """Write ``category/name.ply`` meshes and ``labels.csv`` into ``out``; yield the count written so far."""
    import trimesh

    catalogs = catalogs or sorted(CATALOG_DIR.glob("*.sh3f"))
    if not catalogs:
        raise ExplorerError(f"no Sweet Home 3D catalogues in {CATALOG_DIR}; apt-get install sweethome3d-furniture")
    out = require_empty_folder(out)
    rows, seen = [], set()
    for cat in catalogs:
        with zipfile.ZipFile(cat) as z:
            for item in catalog_items(cat):
                if max_items is not None and len(rows) >= max_items:
                    break
                if not item["model"].lower().endswith(".obj") or item["model"] not in z.namelist():
                    continue
                try:
                    mesh = trimesh.load(io.BytesIO(z.read(item["model"])), file_type="obj", force="mesh",
                                        skip_materials=True, process=False)
                except Exception:  # a model trimesh cannot read is skipped, not fatal
                    continue
                if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) < 4:
                    continue
                name = f"{_slug(item['category'])}/{_slug(item['name'])}.ply"
                k = 2
                while name in seen:
                    name = f"{_slug(item['category'])}/{_slug(item['name'])}-{k}.ply"
                    k += 1
                seen.add(name)
                atomic_write_bytes(out / name, mesh.export(file_type="ply"))
                rows.append([name, item["category"], item["name"], item["catalog"]])
                yield len(rows)
    write_labels_csv(out, ["file", "category", "name", "catalog"], rows)

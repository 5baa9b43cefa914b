"""Label colours: distinct, stable between checkpoints, never a path's colour."""
from explorer.ui.palette import CATEGORICAL, OTHER, PATH_COLOURS, label_colours


def _hex(rgb) -> str:
    return "#%02X%02X%02X" % tuple(int(c) for c in rgb)


def test_a_labels_colour_depends_on_its_value_not_its_frequency_and_is_never_a_paths():
    garments = ["Trouser"] * 5 + ["Bag"] * 2 + ["Ankle boot"] * 9
    fewer_boots = ["Trouser"] * 9 + ["Bag"] * 2 + ["Ankle boot"]
    rgb1, legend1 = label_colours(garments)
    rgb2, legend2 = label_colours(fewer_boots)
    assert legend1 == legend2  # the same colour for each, in the same (sorted) order
    assert [t for t, _ in legend1] == ["Ankle boot", "Bag", "Trouser"]
    assert {_hex(c) for c in rgb1} == {c for _, c in legend1}
    assert not set(PATH_COLOURS.values()) & set(CATEGORICAL)


def test_numbers_sort_by_value_and_the_rarest_beyond_the_palette_share_grey():
    pitches = [p for p in range(48, 48 + len(CATEGORICAL) + 2) for _ in range(3)] + [200]
    pitches = [str(p) for p in pitches]  # a label read from a CSV: text
    _, legend = label_colours(pitches)
    names = [t for t, _ in legend]
    assert names[:3] == ["48", "49", "50"] and "200" not in names and legend[-1] == ("3 more", OTHER)

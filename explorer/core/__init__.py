"""The Qt-free engine: checkpoint I/O and (later) navigation, decoding, metrics and export."""

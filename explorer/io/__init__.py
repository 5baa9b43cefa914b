"""The bottom layer: writing files safely, the user's cache, timing and running progress generators.
Imports nothing of the project but ``explorer.errors`` (the import contract in pyproject.toml)."""

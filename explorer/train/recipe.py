"""What a training run is made of, from a preset and a person's overrides: the modality plug with its
options, the model and training configs, the data options and each part's own settings, all checked
before any data is read. The command line, the app and scripts build runs the same way."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from explorer.errors import ExplorerError

AUTO_COMPILE_STEPS = 500
"""``compile="auto"`` compiles runs of at least this many steps: shorter ones do not win back the compile time."""
AUTO_COMPILE_MINUTES = 3.0
"""... and of a time budget (``--minutes``) of at least this long: compiling takes up to a minute."""

SETTING_BOUNDS = {
    "steps": (1, 10_000_000), "batch_size": (1, 65_536), "coords_per_signal": (1, 1_048_576), "lle_k": (1, 1024),
    "lle_warmup": (0, 10_000_000), "seed": (0, 2**32 - 1), "points": (16, 1_048_576),
    "shell": (0.0, 0.5),
    "lr": (0.0, 1.0), "latent_lr": (0.0, 10.0), "lr_final": (0.0, 1.0), "latent_init_std": (0.0, 10.0),
    "lle_weight": (0.0, 1e6), "iso_weight": (0.0, 1e6), "negative_weight": (0.0, 1e6), "derivative_weight": (0.0, 1e6),
    "stft_weight": (0.0, 1e6), "iso_quantile": (0.0, 1.0), "lle_coords": (0.0, 1.0), "save_every_s": (0.0, 1e7),
}
"""The ranges of the training settings (and the data's ``points``): a negative learning rate, a NaN
weight or a billion steps is refused before any data is read. The model's settings are bounded by
``FieldConfig`` (``models.config.SIZE_BOUNDS``)."""


@dataclass
class Recipe:
    plug: object
    """The modality plug, with its options (an audio target, ...)."""
    base: object
    """``FieldConfig`` shared by every part, before the data gives coordinates and channels."""
    train: object
    """``TrainConfig``."""
    data: dict
    """Options of ``load_dataset`` (``max_items``, ``points``, ...)."""
    part_settings: dict = field(default_factory=dict)
    """``{part: ["KEY=VALUE", ...]}``: each part's own model settings (the preset's, then the person's)."""

    def model_config(self, dataset):
        """The model's config once the data is read: each part's field maps the plug's coordinates to the
        data's channels."""
        from explorer.models import MultiFieldConfig
        from explorer.modalities import plug_parts
        from explorer.train.config import apply_setting

        configs = {}
        for key, plug in plug_parts(self.plug).items():
            cfg = dataclasses.replace(self.base, in_dim=plug.in_dim,
                                      out_dim=(dataset if key is None else dataset.parts[key]).channels)
            for item in self.part_settings.get(key, []):
                apply_setting(item, cfg)
            cfg.__post_init__()
            configs[key] = cfg
        return configs[None] if None in configs else MultiFieldConfig(configs)


def make_recipe(preset_name: str, modality: str, *, audio_target: str | None = None, settings=(),
                overrides: dict | None = None, model_kind: str | None = None, activation: str | None = None,
                lle: bool = True, iso: bool = True) -> Recipe:
    """A preset with a person's changes: ``overrides`` of training settings (``steps``, ``seed``, ...; None
    leaves the preset's), ``settings`` as ``KEY=VALUE`` (``--set``; ``PART.KEY=VALUE`` for one part of a
    multi-field model; data settings such as ``points``), a model kind and activation, and L_LLE / L_iso
    switched off. ``ExplorerError`` naming the setting when one is out of range or of the wrong type."""
    from explorer.modalities import get_modality, plug_parts
    from explorer.train.config import DATA_SETTINGS, apply_setting, part_preset_settings, preset

    options = get_modality(modality).target_options(audio_target, preset_name)
    if options is None and audio_target:
        raise ExplorerError(f"--audio-target is for audio and audiovisual models, not {modality}")
    plug = get_modality(modality, options or {})
    base, train, data = preset(preset_name, 1, 1, plug)
    for name, value in (overrides or {}).items():
        if value is not None:
            if name in ("max_items", "max_test"):
                data[name] = value
            else:
                setattr(train, name, value)
    train.lle, train.iso = train.lle and lle, train.iso and iso
    parts = plug_parts(plug)
    given = part_preset_settings(preset_name, plug)
    part_settings = {key: list(given.get(key, [])) for key in parts}
    for item in settings:
        key, dot, rest = item.partition(".")
        name, eq, value = item.partition("=")
        if dot and key in parts and key is not None and "=" in rest and "=" not in key:
            part_settings[key].append(rest)
        elif eq and name.strip() in DATA_SETTINGS:
            kind = DATA_SETTINGS[name.strip()]
            try:
                data[name.strip()] = kind(value)
            except ValueError:
                raise ExplorerError(f"--set {item}: {name.strip()} takes a "
                                    f"{'whole number' if kind is int else 'number'}") from None
        else:
            apply_setting(item, base, train)
    if model_kind:
        base.kind = model_kind
    if activation:
        base.activation = activation
    recipe = Recipe(plug, base, train, data, part_settings)
    check_recipe(recipe)
    return recipe


def check_recipe(recipe: Recipe) -> None:
    """Every setting in range and of its type (``SETTING_BOUNDS``, ``FieldConfig``, ``TrainConfig``), each
    part's own settings included, before the data is read: one line naming the setting."""
    from explorer.io.typed import need_float, need_int
    from explorer.train.config import apply_setting

    values = dataclasses.asdict(recipe.train) | {k: v for k, v in recipe.data.items() if k in SETTING_BOUNDS}
    for name, (lo, hi) in SETTING_BOUNDS.items():
        if name in values and values[name] is not None:
            need = need_int if isinstance(lo, int) else need_float
            need(values[name], f"--set {name}", lo, hi)
    recipe.train.__post_init__()
    recipe.base.__post_init__()
    for items in recipe.part_settings.values():
        cfg = dataclasses.replace(recipe.base)
        for item in items:
            apply_setting(item, cfg)
        cfg.__post_init__()


def compile_choice(requested: str, device, steps: int, minutes: float = 0.0) -> tuple[bool, str]:
    """Whether a run of ``steps`` steps (or ``minutes``, its time budget, where that is set) compiles its
    training step (``"auto"``, ``"on"`` or ``"off"``), and a note saying why not where that is worth saying."""
    from explorer.models.compiled import resolve_compile

    compiled, note = resolve_compile(requested, device)
    if compiled and requested == "auto" and 0 < minutes < AUTO_COMPILE_MINUTES:
        return False, (f"running uncompiled: {minutes:g} minutes do not win back the compile time "
                       f"(auto compiles budgets of {AUTO_COMPILE_MINUTES:g}+ minutes; --compile on to compile anyway)")
    if compiled and requested == "auto" and steps < AUTO_COMPILE_STEPS:
        return False, (f"running uncompiled: {steps} steps do not win back the compile time "
                       f"(auto compiles runs of {AUTO_COMPILE_STEPS}+ steps; --compile on to compile anyway)")
    return compiled, note

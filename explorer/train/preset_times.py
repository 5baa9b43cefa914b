"""The presets' names and what each costs, importable without torch (``latent-explorer --help`` reads them)."""

PRESET_TIMES = {
    "tiny": "seconds, for tests and smoke checks",
    "small": "minutes on 2 CPU cores, for the GEM ablation of scripts/ablation.sh",
    "base": "the default, the recipe of docs/recipe.md: for 10 000 Fashion-MNIST images (24 000 steps) 40 to 66 "
            "minutes on a CPU with bfloat16 units (one thread), about 100 minutes in float32 on 2 cores without them "
            "(docs/speed.md); "
            "each shipped model card gives its run's time; --minutes 60 ends any preset within an hour",
    "large": "sized for a GPU; its time has not been measured, this project has no GPU to measure on",
    "audio-waveform": "the Zuiderveld thesis's waveform field, hours on a CPU",
}
"""What ``train --help`` says of each preset's size and time."""

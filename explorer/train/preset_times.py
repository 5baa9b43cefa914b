"""The presets' names and what each costs, importable without torch (``latent-explorer --help`` reads them)."""

PRESET_TIMES = {
    "tiny": "seconds, for tests and smoke checks",
    "small": "minutes on 2 CPU cores, for the GEM ablation of scripts/ablation.sh",
    "base": "the default, the recipe of docs/recipe.md: for 10 000 Fashion-MNIST images (24 000 steps) 40 to 66 "
            "minutes on a CPU with bfloat16 units (one thread), about 100 minutes in float32 on 2 cores without them "
            "(docs/speed.md), about 6 minutes on an NVIDIA H200; "
            "each shipped model card gives its run's time; --minutes 60 ends any preset within an hour",
    "large": "sized for a GPU: all 60 000 Fashion-MNIST images ran 60 steps/s on an NVIDIA H200 sharing it with a base "
             "run (eager), so its 100 000 steps take about half an hour there (docs/speed.md)",
    "audio-waveform": "the Zuiderveld thesis's waveform field, hours on a CPU",
}
"""What ``train --help`` says of each preset's size and time."""

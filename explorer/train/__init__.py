"""Auto-decoder training, test-time latent fitting and evaluation (Qt-free)."""

"""latent-explorer: explore, train and decode the manifolds learned by neural-field auto-decoders."""

__version__ = "0.1.0"

import pytest
import torch

from explorer.errors import ExplorerError
from explorer.models import FieldConfig, build_model

SMALL = dict(latent_dim=6, hidden=16, layers=3, rank=2, hyper_hidden=16, hyper_layers=3)


@pytest.mark.parametrize("kind,activation", [("hyper", "sine"), ("hyper", "relu_pe"), ("modulated", "sine"), ("film", "sine")])
def test_every_model_maps_latents_and_coordinates_to_values(kind, activation):
    torch.manual_seed(0)
    model = build_model(FieldConfig(kind=kind, activation=activation, in_dim=2, out_dim=3, **SMALL))
    z = torch.randn(4, 6)
    coords = torch.rand(10, 2) * 2 - 1
    out = model(z, coords)
    assert out.shape == (4, 10, 3)
    # the same coordinates given per signal give the same values
    assert torch.allclose(model(z, coords.expand(4, -1, -1)), out, atol=1e-6)
    # different latents are different signals
    assert not torch.allclose(out[0], out[1])
    # gradients reach the latent (auto-decoding needs them)
    zz = z.clone().requires_grad_(True)
    model(zz, coords).sum().backward()
    assert zz.grad.abs().sum() > 0


def test_hypernetwork_weights_are_shared_times_sigmoid_of_low_rank_product():
    torch.manual_seed(0)
    cfg = FieldConfig(kind="hyper", **SMALL)
    model = build_model(cfg)
    params = model.field_parameters(torch.randn(3, 6))
    assert len(params) == cfg.layers + 1
    for (w, b), shared in zip(params, model.shared):
        assert w.shape[1:] == shared.shape and b.shape == (3, shared.shape[0])
        mask = w / shared  # sigmoid(A B), per latent
        assert ((mask > 0) & (mask < 1)).all()
        logits = torch.logit(mask.double())
        for i in range(3):
            assert torch.linalg.matrix_rank(logits[i], rtol=1e-6) <= cfg.rank


def test_film_layer_adds_gamma_to_omega0_and_beta_to_the_phase():
    torch.manual_seed(0)
    cfg = FieldConfig(kind="film", in_dim=1, out_dim=1, layers=1, hidden=4, latent_dim=2, hyper_hidden=8,
                      hyper_layers=2, omega0_first=7.0)
    model = build_model(cfg)
    z = torch.randn(1, 2)
    x = torch.linspace(-1, 1, 5)[:, None]
    gamma, beta = model.film(z)
    lin = model.layers_[0](x)
    h = torch.sin((7.0 + gamma[0, 0]) * lin + beta[0, 0])
    assert torch.allclose(model(z, x)[0], model.out(h), atol=1e-5)


def test_modulation_network_sees_the_latent_at_every_layer():
    cfg = FieldConfig(kind="modulated", **SMALL)
    model = build_model(cfg)
    assert model.modulation[0].in_features == cfg.latent_dim
    assert all(m.in_features == cfg.hidden + cfg.latent_dim for m in model.modulation[1:])
    alphas = model.modulations(torch.randn(2, 6))
    assert len(alphas) == cfg.layers and all((a >= 0).all() for a in alphas)


def test_config_round_trips_and_rejects_unknown_fields():
    cfg = FieldConfig(kind="film", omega0_first=3000.0, omega0_hidden=30.0)
    assert FieldConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ExplorerError, match="unknown fields"):
        FieldConfig.from_dict(cfg.to_dict() | {"wings": 2})
    with pytest.raises(ExplorerError, match="kind must be one of hyper, modulated, film, not 'gan'"):
        FieldConfig(kind="gan")
    with pytest.raises(ExplorerError, match="hidden must be an integer from 1 to 4096, not '128'"):
        FieldConfig.from_dict(cfg.to_dict() | {"hidden": "128"})
    with pytest.raises(ExplorerError, match="latent_dim must be an integer from 1 to 4096, not 100000000.0"):
        FieldConfig(latent_dim=1e8)

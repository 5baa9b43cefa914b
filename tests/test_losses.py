import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.models.losses import (
    isometry_loss,
    lle_projection,
    lle_weights,
    nearest_latents,
    negative_weight_penalty,
)


def test_lle_recovers_a_point_inside_its_neighbours_convex_hull():
    torch.manual_seed(0)
    nb = torch.randn(1, 3, 8)  # k=3 neighbours in 8-d
    w_true = torch.tensor([[0.2, 0.5, 0.3]])
    z = torch.einsum("bk,bkd->bd", w_true, nb)
    z_proj, w = lle_projection(z, nb, reg=1e-6)
    assert torch.allclose(w, w_true, atol=1e-3)
    assert torch.allclose(z_proj, z, atol=1e-3)
    assert negative_weight_penalty(w) < 1e-3


def test_lle_weights_never_fail_when_k_exceeds_d_or_neighbours_coincide():
    z = torch.randn(2, 3)
    many = torch.randn(2, 12, 3)  # k=12 > d=3: singular Gram matrix without the ridge
    same = z[:, None, :].expand(-1, 5, -1).clone()  # every neighbour equals z: Gram matrix is zero
    for nb in (many, same):
        w = lle_weights(z, nb)
        assert torch.isfinite(w).all()
        assert torch.allclose(w.sum(1), torch.ones(2), atol=1e-5)


def test_lle_projection_is_differentiable_in_latent_and_neighbours():
    z = torch.randn(4, 5, requires_grad=True)
    nb = torch.randn(4, 6, 5, requires_grad=True)
    z_proj, w = lle_projection(z, nb)
    (z_proj.pow(2).sum() + negative_weight_penalty(w)).backward()
    assert z.grad.abs().sum() > 0 and nb.grad.abs().sum() > 0


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(1, 12), st.integers(1, 8), st.floats(1e-4, 1e3), st.integers(0, 2**16))
def test_lle_weights_sum_to_one_for_any_neighbourhood(b, k, d, scale, seed):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(b, d, generator=g) * scale
    nb = torch.randn(b, k, d, generator=g) * scale
    w = lle_weights(z, nb)
    assert torch.isfinite(w).all()
    assert torch.allclose(w.sum(1), torch.ones(b), atol=1e-4)


def test_nearest_latents_excludes_the_query_itself():
    bank = torch.tensor([[0.0], [1.0], [1.1], [5.0]])
    idx = nearest_latents(bank[[1]], bank, k=2, exclude=torch.tensor([1]))
    assert idx.tolist() == [[2, 0]]


def test_negative_weight_penalty_is_l1_of_the_negative_part():
    w = torch.tensor([[1.5, -0.25, -0.25], [0.5, 0.5, 0.0]])
    assert torch.isclose(negative_weight_penalty(w), torch.tensor(0.25))


def test_isometry_loss_is_zero_for_isometric_latents_and_uses_only_close_pairs():
    torch.manual_seed(0)
    signals = torch.randn(8, 16)
    z = signals / 4.0  # ||z_i - z_j|| = ||I_i - I_j|| / sqrt(16): isometric with alpha = 1
    assert isometry_loss(z, signals, torch.zeros(())) < 1e-5
    # breaking the far pairs only leaves the loss (lowest 25 % of pairs) at zero
    d = torch.cdist(signals, signals)
    iu = torch.triu_indices(8, 8, 1)
    far = d[iu[0], iu[1]].argmax()
    i, j = iu[0][far], iu[1][far]
    z2 = z.clone()
    z2[j] = z2[i] + 100 * (z2[j] - z2[i])
    close = d[iu[0], iu[1]] <= torch.quantile(d[iu[0], iu[1]], 0.25)
    if not any(bool(close[t]) and (int(iu[0][t]) == int(j) or int(iu[1][t]) == int(j)) for t in range(len(close))):
        assert isometry_loss(z2, signals, torch.zeros(())) < 1e-5
    # a wrong scale is penalised, and alpha can undo it
    assert isometry_loss(z * 3, signals, torch.zeros(())) > 0.1
    assert isometry_loss(z * 3, signals, torch.log(torch.tensor(1 / 3))) < 1e-5


def test_derivative_loss_compares_the_field_slope_with_the_forward_difference():
    from explorer.models.losses import derivative_loss, forward_difference

    n = 1000
    t = ((torch.arange(n) + 0.5) / n * 2 - 1)[None, :, None]  # [1, n, 1]
    wave = torch.sin(3 * t)
    diff = forward_difference(wave)
    coords = t.clone().requires_grad_(True)
    exact = torch.sin(3 * coords)  # a "field" whose derivative is 3 cos(3t)
    assert derivative_loss(exact, coords, diff, n) < 1e-7  # O(h^2) and the last sample (difference 0)
    coords2 = t.clone().requires_grad_(True)
    assert derivative_loss(torch.sin(6 * coords2), coords2, diff, n) > 1e-6


def test_multires_stft_loss_compares_magnitudes_of_strided_clips():
    from explorer.models.losses import multires_stft_loss

    t = torch.arange(2000) / 2000.0
    a = torch.sin(2 * torch.pi * 50 * t)[None, :, None]
    shifted = torch.sin(2 * torch.pi * 50 * t + 1.0)[None, :, None]  # same magnitudes, other phase
    other = torch.sin(2 * torch.pi * 200 * t)[None, :, None]
    assert float(multires_stft_loss(a, a, stride=8)) == 0.0
    assert float(multires_stft_loss(shifted, a, stride=8)) < 0.1 * float(multires_stft_loss(other, a, stride=8))
    pred = other.clone().requires_grad_(True)
    multires_stft_loss(pred, a, stride=8).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0

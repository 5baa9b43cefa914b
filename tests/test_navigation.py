"""The Qt-free navigation core: graphs, paths, walks, path quality, projections, decoding."""
import numpy as np
import pytest
import torch
from scipy.sparse.csgraph import shortest_path

from explorer.core.graph import connecting_k, connecting_radius, knn_graph, nearest_neighbours, radius_graph
from explorer.core.paths import geodesic_path, lerp_path, make_path, resample_polyline, shortest_nodes
from explorer.core.projection import load_cached, pca, place, save_cached, tsne_steps
from explorer.core.quality import ground_truth_error, interpolation_mse, off_manifold, smoothness
from explorer.core.walk import lle_walk
from explorer.errors import ExplorerError


def arc(n=200, noise=0.0, seed=0, d=8):
    """Points along a half circle in the first two of d dimensions: a curved 1-D manifold."""
    g = np.random.default_rng(seed)
    t = np.sort(g.uniform(0, np.pi, n))
    z = np.zeros((n, d), np.float32)
    z[:, 0], z[:, 1] = np.cos(t), np.sin(t)
    return z + noise * g.normal(size=z.shape).astype(np.float32)


def test_knn_graph_is_exact_and_symmetric():
    z = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    dist, idx = nearest_neighbours(z, 6)
    full = np.linalg.norm(z[:, None] - z[None], axis=-1)
    np.fill_diagonal(full, np.inf)
    assert np.array_equal(np.sort(idx, 1), np.sort(np.argsort(full, 1)[:, :6], 1))
    g = knn_graph(z, 6)
    m = g.matrix.toarray()
    assert np.allclose(m, m.T) and np.allclose(m[m > 0], full[m > 0], atol=1e-5)
    assert (m > 0).sum(1).min() >= 6  # every latent keeps its own k neighbours


def test_components_and_the_smallest_connecting_k_and_radius():
    a = np.random.default_rng(0).normal(size=(50, 3))
    z = np.concatenate([a, a + 100]).astype(np.float32)  # two far clusters
    assert knn_graph(z, 5).n_components == 2 and not knn_graph(z, 5).connected
    assert connecting_k(z, k_max=60) >= 50  # only a neighbour in the other cluster joins them
    one = arc(300)
    k = connecting_k(one)
    assert knn_graph(one, k).connected and (k == 1 or not knn_graph(one, k - 1).connected)
    r = connecting_radius(one)
    assert radius_graph(one, r * 1.0001).connected and not radius_graph(one, r * 0.999).connected


def test_geodesic_follows_the_data_where_the_straight_line_leaves_it():
    z = arc(400)
    a, b = 0, len(z) - 1  # the two ends of the half circle
    graph = knn_graph(z, connecting_k(z))
    geo = geodesic_path(z, graph, a, b, frames=32)
    line = lerp_path(z, a, b, frames=32)
    assert geo.method == "geodesic" and geo.nodes[0] == a and geo.nodes[-1] == b
    assert np.allclose(geo.latents[0], z[a]) and np.allclose(geo.latents[-1], z[b])
    assert abs(geo.length - np.pi) < 0.05 and abs(line.length - 2) < 0.01
    # every geodesic frame lies on the circle; the straight line passes through its centre
    radius = np.linalg.norm(geo.latents[:, :2], axis=1)
    assert np.abs(radius - 1).max() < 0.01 and np.linalg.norm(line.latents[16, :2]) < 0.1
    assert off_manifold(geo.latents, z, 4).mean() < 0.2 * off_manifold(line.latents, z, 4).mean()
    # Dijkstra's path is the shortest: its length equals scipy's all-pairs answer
    dist = shortest_path(graph.matrix, directed=False)[a, b]
    assert abs(dist - geo.length) < 1e-4


def test_frames_are_evenly_spaced_by_arc_length():
    pts = np.array([[0, 0], [1, 0], [1, 3]], np.float32)
    out = resample_polyline(pts, 9)
    steps = np.linalg.norm(np.diff(out, axis=0), axis=1)
    assert np.allclose(steps, 0.5, atol=1e-5) and np.allclose(out[-1], [1, 3])


def test_unconnected_ends_fall_back_to_the_line_and_say_so():
    a = np.random.default_rng(0).normal(size=(30, 3))
    z = np.concatenate([a, a + 50]).astype(np.float32)
    path = make_path("geodesic", z, 0, 45, 10, knn_graph(z, 3))
    assert path.method == "lerp" and "different components" in path.note
    assert shortest_nodes(knn_graph(z, 3), 0, 45) is None
    with pytest.raises(ExplorerError, match="unknown path method"):
        make_path("spline", z, 0, 1)


def test_lle_walk_is_seeded_and_stays_on_the_manifold():
    z = arc(300, d=4)
    w1 = lle_walk(z, start=10, steps=40, k=6, seed=3)
    w2 = lle_walk(z, start=10, steps=40, k=6, seed=3)
    assert w1.shape == (41, 4) and np.array_equal(w1, w2)
    assert not np.array_equal(w1, lle_walk(z, start=10, steps=40, k=6, seed=4))
    assert np.allclose(w1[0], z[10])
    assert np.abs(np.linalg.norm(w1[:, :2], axis=1) - 1).max() < 0.02  # on the circle, up to chord sag
    assert np.abs(w1[:, 2:]).max() < 1e-5  # the noise is projected away
    assert len({tuple(np.round(p, 4)) for p in w1}) > 30  # it moves


def test_path_quality_measures():
    signals = np.random.default_rng(0).normal(size=(50, 20)).astype(np.float32)
    frames = signals[[3, 7]] + 0.1
    mse, nearest = interpolation_mse(frames, signals, chunk=16)
    assert list(nearest) == [3, 7] and np.allclose(mse, 0.01, atol=1e-5)
    assert np.allclose(smoothness(np.stack([signals[0], signals[0] + 0.5])), 0.5)
    assert np.allclose(ground_truth_error(frames, signals[[3, 7]]), 0.01)


def test_pca_map_places_new_points_exactly_and_tsne_animates(tmp_path):
    z = np.random.default_rng(0).normal(size=(300, 6)).astype(np.float32) * [5, 3, 0.1, 0.1, 0.1, 0.1]
    p = pca(z)
    assert p.method == "pca" and p.xy.shape == (300, 2)
    assert p.xy[:, 0].std() > p.xy[:, 1].std() > 2  # the two wide axes
    assert np.allclose(place(p, z, z[:5]), p.xy[:5], atol=1e-4)
    flat = pca(z[:, :2])
    assert flat.method == "identity" and np.allclose(flat.xy, z[:, :2])
    frames = list(tsne_steps(z, iterations=50, exaggeration_iterations=25, every=25))
    assert [f[0] for f in frames] == [0, 25, 50, 75] and frames[-1][2].method == "tsne"
    assert not np.allclose(frames[0][2], frames[-1][2].xy)  # the map moves while it converges
    tsne_map = frames[-1][2]
    assert np.allclose(place(tsne_map, z, z[:3]), tsne_map.xy[:3], atol=1e-3)
    # cancel: stop iterating; nothing else happens
    gen = tsne_steps(z, iterations=50, exaggeration_iterations=25, every=25)
    next(gen)
    gen.close()
    # cache: the same latents and parameters reopen the map; a damaged file counts as none
    path = save_cached(z, tsne_map, tmp_path)
    again = load_cached(z, "tsne", tsne_map.params, tmp_path)
    assert np.array_equal(again.xy, tsne_map.xy)
    assert load_cached(z + 1, "tsne", tsne_map.params, tmp_path) is None
    path.write_bytes(b"garbage")
    assert load_cached(z, "tsne", tsne_map.params, tmp_path) is None


def test_tsne_from_the_map_on_screen_holds_its_frame_and_never_collapses():
    from explorer.core.projection import align

    rng = np.random.default_rng(1)
    ref = rng.normal(size=(200, 2)) * [4, 1] + [10, -3]
    turn = np.array([[0.6, -0.8], [0.8, 0.6]])
    assert np.allclose(align(0.01 * ref @ turn + 7, ref), ref, atol=1e-4)  # moved, turned, shrunk: put back
    assert np.allclose(align(ref * [-1, 1], ref), ref, atol=1e-4)  # mirrored: put back
    z = np.concatenate([rng.normal(size=(150, 8)), rng.normal(size=(150, 8)) + 6]).astype(np.float32)
    start = pca(z).xy
    spread = np.sqrt(((start - start.mean(0)) ** 2).sum(1).mean())
    layouts = [f[2] for f in tsne_steps(z, iterations=100, exaggeration_iterations=50, every=25, init=start)]
    assert np.allclose(layouts[0], start, atol=1e-3 * spread)  # the first layout is the map on screen
    for xy in layouts[:-1] + [layouts[-1].xy]:
        xy = np.asarray(xy)
        assert np.allclose(xy.mean(0), start.mean(0), atol=1e-3 * spread)
        assert np.isclose(np.sqrt(((xy - xy.mean(0)) ** 2).sum(1).mean()), spread, rtol=1e-3)
    final = layouts[-1].xy
    assert np.corrcoef(final[:, 0], start[:, 0])[0, 1] > 0.9  # the two clusters stay on their sides


def test_decode_pipeline_caches_chunks_cancels_and_refines(tmp_path, tiny_checkpoint):
    from explorer.models.checkpoint import load_checkpoint
    from explorer.models.decode import decode_values
    from explorer.core.pipeline import DecodePipeline

    ckpt = load_checkpoint(tiny_checkpoint)
    p = DecodePipeline(ckpt, device="cpu", chunk_points=100, precision="fp32")
    z = ckpt.latents[:3].numpy()
    steps = list(p.steps(z))
    assert len(steps) > 3 and steps[-1].values.shape == (3, 256, 3) and all(s.values is None for s in steps[:-1])
    expected = decode_values(ckpt.build_model(), ckpt.latents[:3], p.plug.coords((16, 16)))
    assert torch.allclose(steps[-1].values, expected, atol=1e-5)
    assert len(list(p.steps(z))) == 1  # cached: answered at once
    gen = p.steps(ckpt.latents[3:5].numpy())
    next(gen)
    gen.close()  # cancelled after one chunk: nothing cached
    assert len(list(p.steps(ckpt.latents[3:5].numpy()))) > 1
    img = p.signal(z[:1], (40, 40))
    assert img.shape == (1, 40, 40, 3) and 0 <= img.min() and img.max() <= 1  # any resolution
    bf = DecodePipeline(ckpt, device="cpu", precision="bf16").values(z)
    assert (bf - expected).abs().max() < 0.1


def test_stream_gives_a_coarse_then_a_fine_signal(tiny_checkpoint):
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.pipeline import DecodePipeline

    p = DecodePipeline(load_checkpoint(tiny_checkpoint), device="cpu")
    # 16x16 is already the preview size: only the fine image comes
    levels = [(lvl, sig) for lvl, sig in p.stream(p.ckpt.latents[:2].numpy()) if lvl != "progress"]
    assert [lvl for lvl, _ in levels] == ["fine"] and levels[0][1].shape == (2, 16, 16, 3)
    p.ckpt.modality["resolution"] = [40, 40]  # as if trained at 40x40: half size first
    levels = [(lvl, sig) for lvl, sig in p.stream(p.ckpt.latents[:2].numpy()) if lvl != "progress"]
    assert [lvl for lvl, _ in levels] == ["coarse", "fine"]
    assert levels[0][1].shape == (2, 20, 20, 3) and levels[1][1].shape == (2, 40, 40, 3)


def test_path_report_on_sprites_measures_the_ground_truth(tmp_path):
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.pipeline import DecodePipeline
    from explorer.core.quality import path_report
    from explorer.data import reload_dataset
    from explorer.data.factors import truth_frames

    from conftest import run_cli

    out = tmp_path / "sprites.safetensors"
    run_cli("train", "--data", "sprites", "--preset", "tiny", "--steps", "20", "--max-items", "40",
            "--resolution", "16", "--out", str(out))
    ckpt = load_checkpoint(out)
    p = DecodePipeline(ckpt, device="cpu")
    path = lerp_path(ckpt.latents.numpy(), 0, 5, frames=8)
    truth = truth_frames(ckpt.data, ckpt.labels, 0, 5, 8, (16, 16))
    assert truth.shape == (8, 256, 3)
    train = reload_dataset(ckpt.data, "image").train()
    report = path_report(p, path, signals=train.values, truth=truth)
    assert set(report["per_frame"]) == {"off_manifold", "smoothness", "interpolation_mse", "ground_truth_mse"}
    assert len(report["per_frame"]["smoothness"]) == 7 and report["total"]["ground_truth_mse_mean"] > 0
    # the true frames at the ends are the items themselves, as rendered
    assert np.allclose(truth[0], train.values[0], atol=1e-5)


def test_bench_runs_and_reports_budgets():
    import json

    from conftest import run_cli

    out = json.loads(run_cli("bench", "--quick", "--json").stdout)
    names = [r["name"] for r in out["results"]]
    assert "image frame, full" in names and any(n.startswith("geodesic query") for n in names)
    assert any(n.startswith("t-SNE") for n in names) and any("FLOP rate" in n for n in names)
    assert any(n.startswith("open (DeepSDF") for n in names) and any(n.startswith("mesh preview 32^3 (DeepSDF") for n in names)
    # float32 against the fast mode, in the same run
    for name in ("matmul 1024^2 (fp32)", "matmul 1024^2 (bf16)", "train step (hyper, fp32 eager)",
                 "train step (hyper, auto)", "decode 64 image frames (fp32)", "decode 64 image frames (auto)"):
        assert name in names
    detail = {r["name"]: r["detail"] for r in out["results"]}
    assert "pixel error vs fp32 mean" in detail["decode 64 image frames (auto)"]
    assert "first layout after" in detail["t-SNE 2000 latents, in a background process"]
    assert "x faster than fp32 eager" in detail["train step (hyper, auto)"]
    assert "x faster than LLE at all coords" in detail["train step (shape, lle_coords=0.25)"]
    assert "x the fp32 matmul" in detail["decode FLOP rate (auto)"] and "x the bf16 matmul" in detail["decode FLOP rate (auto)"]
    assert all(r["median_ms"] > 0 for r in out["results"])
    assert "cpu" in out["machine"] or "cuda" in out["machine"]
    # one model trained in 1 and in 2 processes (torchrun, gloo), the same global batch
    assert "peak" in detail["app open to a usable map, 60000 latents"]
    assert "steps/s" in detail["train step, 1 process(es) (gloo)"] and "steps/s" in detail["train step, 2 process(es) (gloo)"]
    only = json.loads(run_cli("bench", "--quick", "--json", "--only", "graph").stdout)
    assert [r["name"] for r in only["results"]] == ["k-NN graph build, 2000 latents (k=10)", "geodesic query, 2000 latents"]
    assert "choose from" in run_cli("bench", "--only", "nothing", check=False).stderr


def test_tsne_in_a_child_process_yields_the_same_and_can_be_stopped():
    from explorer.core.projection import tsne_steps_in_process

    z = np.random.default_rng(0).normal(size=(120, 5)).astype(np.float32)
    frames = list(tsne_steps_in_process(z, iterations=50, exaggeration_iterations=25, every=25))
    here = list(tsne_steps(z, iterations=50, exaggeration_iterations=25, every=25))
    assert [f[0] for f in frames] == [f[0] for f in here]
    assert np.allclose(frames[-1][2].xy, here[-1][2].xy, atol=1e-4) and frames[-1][2].method == "tsne"
    gen = tsne_steps_in_process(z, iterations=500, every=25)
    next(gen)
    gen.close()  # the child is terminated, nothing hangs


def test_lerp_and_geodesic_are_compared_over_random_pairs(tiny_checkpoint):
    import json

    from conftest import run_cli

    out = json.loads(run_cli("eval", str(tiny_checkpoint), "--paths", "3", "--json").stdout)
    assert out["pairs"] == 3 and set(out) >= {"lerp", "geodesic", "graph"}
    for m in ("lerp", "geodesic"):
        assert out[m]["off_manifold_mean"] >= 0 and out[m]["interpolation_mse_mean"] > 0
    assert out["geodesic"]["length_mean"] >= out["lerp"]["length_mean"] - 1e-6  # a straight line is shortest


def test_paths_on_sprites_are_scored_against_the_true_interpolation(tmp_path):
    """Where the generating factors are known, each decoded frame is compared with the sprite rendered at
    the linearly interpolated factors (the seed's ground-truth metric)."""
    import json

    from conftest import run_cli

    out = tmp_path / "s.safetensors"
    run_cli("train", "--data", "sprites", "--max-items", "60", "--resolution", "16", "--preset", "tiny",
            "--steps", "5", "--out", str(out))
    result = json.loads(run_cli("eval", str(out), "--paths", "2", "--json").stdout)
    for m in ("lerp", "geodesic"):
        # an untrained model is far from the truth, and no closer than to the nearest training sprite
        assert result[m]["ground_truth_mse_mean"] > 0.01
        assert result[m]["smoothness_mean"] >= 0


def test_paths_between_shapes_are_compared_at_their_shared_points(tmp_path):
    import json

    from conftest import run_cli

    out = tmp_path / "q.safetensors"
    run_cli("train", "--data", "superquadrics", "--modality", "shape", "--max-items", "40", "--preset", "tiny",
            "--steps", "5", "--out", str(out))
    result = json.loads(run_cli("eval", str(out), "--paths", "2", "--json").stdout)
    for m in ("lerp", "geodesic"):
        assert result[m]["interpolation_mse_mean"] > 0 and result[m]["ground_truth_mse_mean"] > 0


def test_tsne_of_a_few_hundred_latents_keeps_its_size_throughout():
    """With exaggeration 12 the shipped notes' map shrank to a point before spreading again."""
    from explorer.core.shipped import CHECKPOINT_DIR
    from explorer.models.checkpoint import load_checkpoint

    z = load_checkpoint(CHECKPOINT_DIR / "notes.safetensors").latents.numpy()
    raw = []
    for _, _, xy in tsne_steps(z, iterations=100, exaggeration_iterations=100, every=25):
        xy = np.asarray(xy if isinstance(xy, np.ndarray) else xy.xy)
        raw.append(np.sqrt(((xy - xy.mean(0)) ** 2).sum(1).mean()))
    assert min(raw[1:]) > 1e-3 * max(raw)


def test_a_long_walk_reports_each_step_and_can_be_stopped():

    bank = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    seen = []
    walk = lle_walk(bank, 0, 12, k=5, progress=lambda done, total: seen.append((done, total)))
    assert len(walk) == 13 and seen == [(i, 12) for i in range(1, 13)]

    def stop(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lle_walk(bank, 0, 1_000_000, k=5, progress=stop)

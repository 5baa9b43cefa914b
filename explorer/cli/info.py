"""``latent-explorer info``: what a checkpoint holds."""
from __future__ import annotations

import argparse
import json


from explorer.cli.common import fmt_metrics



def add_parser(sub) -> None:
    i = sub.add_parser("info", help="describe a checkpoint", description="Modality, sizes, labels, training command, metrics.")
    i.add_argument("checkpoint", metavar="CKPT")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.core.open_any import open_model

    ckpt = open_model(args.checkpoint)
    n_params = sum(v.numel() for v in ckpt.state_dict.values())
    info = {
        "path": str(ckpt.path),
        "modality": ckpt.modality,
        "model": ckpt.model_config.to_dict(),
        "parameters": n_params,
        "latents": {"count": ckpt.n_items, "dim": ckpt.model_config.latent_dim},
        "labels": {k: _label_summary(v) for k, v in ckpt.labels.items()},
        "data": ckpt.data,
        "train": {k: v for k, v in ckpt.train.items() if k != "config"} | {"config": ckpt.train.get("config", {})},
        "metrics": ckpt.metrics,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{ckpt.path}")
    mc = ckpt.model_config
    parts = ckpt.modality.get("parts")
    for key, info_ in (parts.items() if parts else [(None, ckpt.modality)]):
        res = "x".join(str(r) for r in info_.get("resolution", []))
        target = (info_.get("options") or {}).get("target")
        print(f"  {'modality' if key is None else ckpt.modality['name'] + ' part ' + key}: {info_['name']} {res}, "
              f"{info_.get('channels', '?')} channel(s)" + (f", {target} field" if target else ""))
    for key, c in (mc.parts.items() if parts else [(None, mc)]):
        print(f"  {'model' if key is None else key + ' field'}: {c.summary()}")
    print(f"  latent dim {mc.latent_dim}" + (f", {n_params / 1e6:.2f} M parameters" if n_params else ""))
    print(f"  latents: {ckpt.n_items} training items; "
          + (f"data {ckpt.data['spec']} ({ckpt.data.get('n_test', 0)} held out)" if ckpt.data.get("spec")
             else "no training data recorded"))
    for k, v in info["labels"].items():
        print(f"  label {k}: {v}")
    t = ckpt.train
    how = f" ({t['precision']}{', compiled' if t.get('compiled') else ''})" if t.get("precision") else ""
    if t.get("imported"):
        print(f"  imported from a {t['imported']} experiment: {t.get('experiment', '?')}, epoch {t.get('epoch', '?')}")
    else:
        print(f"  trained: {t.get('step', '?')} steps in {t.get('seconds', '?')} s on {t.get('device', '?')}{how}"
              + ("" if t.get("finished", True) else " (unfinished: continue with --resume)"))
    if t.get("command"):
        print(f"  command: {t['command']}")
    if ckpt.metrics:
        print("  metrics:")
        print("\n".join(fmt_metrics(ckpt.metrics, "    ")))
    return 0


def _label_summary(values: list) -> str | dict:
    if values and all(isinstance(v, (int, float)) for v in values):
        return {"min": min(values), "max": max(values)}
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return f"{len(counts)} classes ({', '.join(list(map(str, counts))[:10])}{', ...' if len(counts) > 10 else ''})"

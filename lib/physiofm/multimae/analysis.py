"""MultiMAE §4.4 and the t-SNE on our models: which models are analysed, on which windows, and the numbers
that summarise each figure.

* Attention rollout (Fig 2A-C, :func:`physiofm.analysis.attention_rollout`) and raw attention per layer
  (Fig 6, :func:`physiofm.analysis.layer_attention`), averaged over test windows, in eval mode on unmasked
  input; :func:`rollout_summary` puts numbers on what the paper reads off the maps: vertical bands (the
  share of the map's variance its column means explain), cross-modal attention (the mass on other
  modalities' tokens) and temporal alignment (cross-modal mass within one second of the query, over what a
  time-blind spread would put there).
* Relative source variance (Fig 2D-F, :func:`physiofm.analysis.relative_source_variance`): per encoder layer
  and unit of the token-mean output, softmax over modalities (the paper) and the share of source variance.
* t-SNE (scikit-learn) of the frozen probe embeddings of every pretraining run on test windows.

The three models of Fig 2: the scratch model trained on sleep staging (all modalities; the fine-tuning
step's ``scratch_all`` run), MultiMAE only and MultiMAE + input modality drop (pretraining checkpoints).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.manifold import TSNE

from physiofm.analysis import (
    SourceVariance,
    attention_rollout,
    lag_profile,
    layer_attention,
    modality_blocks,
    relative_source_variance,
)
from physiofm.config import StepContext
from physiofm.embeddings import read_run_embeddings
from physiofm.evaluation.finetuning import load_finetuned
from physiofm.multimae import data
from physiofm.multimae.evaluate import labelled_rows, scratch_choice, scratch_dir
from physiofm.multimae.tasks import MODALITIES
from physiofm.store import SegmentStore
from physiofm.training.run import checkpoint, load_method

MODEL_LABELS = {"scratch": "Scratch (sleep staging)", "multimae": "MultiMAE only",
                "multimae_drop": "MultiMAE + input modality drop"}


def models(ctx: StepContext, names: Sequence[str]) -> dict[str, torch.nn.Module]:
    """The analysed models by name: ``scratch`` (the all-modality scratch model of sleep staging, seed of the
    study), ``multimae`` and ``multimae_drop`` (their pretraining checkpoints), each a multimae method in eval
    mode."""
    shared = ctx.shared
    out = {}
    for name in names:
        if name == "scratch":
            folder = scratch_dir(ctx.input("finetune"), "sleep", ctx.step_params("finetune").seeds[0])
            out[name] = load_finetuned(scratch_choice(ctx), shared.encoder, folder).encoder.eval()
        else:
            seed = ctx.step_params("pretrain").seeds[0]
            ckpt = checkpoint(ctx.input("pretrain"), name, seed, shared.checkpoint_of(name))
            out[name] = load_method(shared.methods[name], shared.encoder, ckpt, seed=seed)
    return out


def test_windows(store: SegmentStore, labels: pd.DataFrame, n: int, seed: int) -> tuple[dict, pd.DataFrame]:
    """``n`` test windows of labelled patients (seeded, in store order): arrays per modality, label rows."""
    test = labelled_rows(labels)
    test = test[test["split"] == "test"]
    pick = np.sort(np.random.default_rng(seed).permutation(len(test))[:n])
    rows = test.iloc[pick].reset_index(drop=True)
    return store.read(rows["row"].to_numpy(), list(MODALITIES)), rows


def _batches(arrays: Mapping[str, np.ndarray], size: int):
    n = len(next(iter(arrays.values())))
    for i in range(0, n, size):
        yield {k: torch.as_tensor(v[i:i + size]) for k, v in arrays.items()}


# ------------------------------------------------------------------------------------------------ rollout
def attention_maps(method, arrays: Mapping[str, np.ndarray], residual: float,
                   batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(rollout (N, N), raw attention per layer (L, N, N)), each averaged over the windows."""
    roll, raw, n = None, None, 0
    for batch in _batches(arrays, batch_size):
        att = method.attentions(batch)
        r = attention_rollout(att, residual).sum(0)
        w = layer_attention(att).sum(0)
        roll, raw = (r, w) if roll is None else (roll + r, raw + w)
        n += len(next(iter(batch.values())))
    return (roll / n).numpy(), (raw / n).numpy()


def rollout_summary(maps: Mapping[str, np.ndarray], n_modalities: int = len(MODALITIES)) -> pd.DataFrame:
    """Per model, what the paper reads off Fig 2A-C:

    * ``vertical bands``: share of the off-diagonal map's variance explained by its column means (1: every
      query attends to the same tokens, "without any context-specificity"; 0: no column structure);
    * ``cross-modal mass``: mean over queries of the rollout mass on tokens of other modalities;
    * ``temporal alignment``: cross-modal mass within one second of the query time, divided by the share a
      time-blind spread would put there (1: none; above 1: time-aligned, "diagonal off-blocks");
    * ``most attended modality``: the modality whose tokens receive the most mass from all queries.
    """
    rows = []
    for name, r in maps.items():
        n = r.shape[0]
        t = n // n_modalities
        off = ~np.eye(n, dtype=bool)
        col = np.where(off, r, np.nan)
        col_mean = np.nanmean(col, axis=0)
        explained = float(np.nanvar(np.broadcast_to(col_mean, r.shape)[off]) / np.nanvar(r[off]))
        blocks = modality_blocks(torch.as_tensor(r), n_modalities).numpy()
        lag = lag_profile(torch.as_tensor(r), n_modalities, cross_modal=True).numpy()
        near = lag[t - 2: t + 1].sum() / lag.sum()
        uniform = (t + 2 * (t - 1)) / t**2
        received = r.sum(axis=0).reshape(n_modalities, t).sum(axis=1)
        rows.append({"model": MODEL_LABELS.get(name, name), "vertical bands": explained,
                     "cross-modal mass": float(1 - np.mean(np.diag(blocks))),
                     "temporal alignment": float(near / uniform),
                     "most attended modality": MODALITIES[int(np.argmax(received))].upper()})
    return pd.DataFrame(rows).set_index("model")


def modality_mass(maps: Mapping[str, np.ndarray], n_modalities: int = len(MODALITIES)) -> pd.DataFrame:
    """Per model and key modality, the share of all rollout mass its tokens receive."""
    out = {}
    for name, r in maps.items():
        t = r.shape[0] // n_modalities
        received = r.sum(axis=0).reshape(n_modalities, t).sum(axis=1)
        out[MODEL_LABELS.get(name, name)] = received / received.sum()
    return pd.DataFrame(out, index=[m.upper() for m in MODALITIES]).T


# ---------------------------------------------------------------------------------------------------- RSV
def source_variance(method, arrays: Mapping[str, np.ndarray], contexts: int, samples: int, seed: int,
                    batch_size: int) -> SourceVariance:
    """Source variance of every unit of every encoder layer (token-mean output) to every modality."""
    windows = np.stack([arrays[m][:, 0] for m in MODALITIES], axis=1)  # (N, M, T*S)
    return relative_source_variance(method, windows, n_contexts=contexts, n_samples=samples,
                                    modalities=MODALITIES, generator=torch.Generator().manual_seed(seed),
                                    batch_size=batch_size, progress=False)


def rsv_table(variances: Mapping[str, SourceVariance]) -> pd.DataFrame:
    """Long table: model, layer, modality, measure (rsv / share), mean over units and 95 % CI."""
    return pd.concat([v.table().assign(model=MODEL_LABELS.get(n, n)) for n, v in variances.items()],
                     ignore_index=True)


def rsv_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and measure: the modality with the highest mean in the last layer, that mean, and the
    largest distance of any layer's modality mean from uniform (1/4)."""
    rows = []
    for (model, measure), g in table.groupby(["model", "measure"], sort=False):
        last = g[g["layer"] == g["layer"].max()].set_index("modality")["mean"]
        rows.append({"model": model, "measure": measure,
                     "last layer: dominant modality": last.idxmax().upper(),
                     "last layer: its mean": float(last.max()),
                     "max |mean - 1/4| over layers": float((g["mean"] - 0.25).abs().max())})
    return pd.DataFrame(rows).set_index(["model", "measure"])


# ---------------------------------------------------------------------------------------------------- t-SNE
def tsne_points(probing_dir: Path, labels: pd.DataFrame, methods: Sequence[str], n: int, perplexity: float,
                seed: int) -> pd.DataFrame:
    """2-D t-SNE of each run's frozen embeddings (``in:all``, the probing step's cache) of ``n`` test windows:
    one row per (method, window) with x, y, the window's sleep stage and its patient's age group."""
    emb = read_run_embeddings(Path(probing_dir) / "embeddings")
    rows = labelled_rows(labels).reset_index(drop=True)
    test = np.flatnonzero(rows["split"].to_numpy() == "test")
    pick = np.sort(np.random.default_rng(seed).permutation(test)[:n])
    parts = []
    for m in methods:
        X = next(iter(emb[m].values()))["in:all"][pick]
        X = (X - X.mean(0)) / (X.std(0) + 1e-6)
        tsne = TSNE(2, perplexity=min(perplexity, (len(X) - 1) / 3), init="pca", random_state=seed)
        xy = tsne.fit_transform(X)
        parts.append(pd.DataFrame({"method": m, "x": xy[:, 0], "y": xy[:, 1],
                                   "stage": rows["stage"].to_numpy()[pick],
                                   "age 55 or over": rows["old"].to_numpy()[pick].astype(int)}))
    return pd.concat(parts, ignore_index=True)


def stage_separation(points: pd.DataFrame, k: int = 10) -> pd.Series:
    """Per method, the share of each point's ``k`` nearest t-SNE neighbours that share its sleep stage
    (chance: the stage mix), a number on how well the map separates the stages."""
    from sklearn.neighbors import NearestNeighbors

    out = {}
    for m, g in points.groupby("method", sort=False):
        xy = g[["x", "y"]].to_numpy()
        idx = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy, return_distance=False)[:, 1:]
        stage = g["stage"].to_numpy()
        out[m] = float((stage[idx] == stage[:, None]).mean())
    return pd.Series(out, name=f"same stage among {k} nearest neighbours")


def read_windows(ctx: StepContext, n: int) -> tuple[dict, pd.DataFrame]:
    """``n`` test windows of this profile (seeded with the study seed)."""
    labels = data.read_labels(ctx.input("data"))
    return test_windows(data.open_store(ctx.input("data")), labels, n, ctx.shared.seed)


# ---------------------------------------------------------------------------------------- reconstructions
def reconstruction_panels(mae, mae_drop, arrays: Mapping[str, np.ndarray],
                          seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Fig 4 and its cross-modal counterpart: MultiMAE only with its own masking (70 % of tokens hidden), and
    MultiMAE + drop with each modality hidden in turn and rebuilt from the others (the rest masked with
    its own ratio). Title -> {target, prediction, hidden} arrays (B, M, T*S)."""
    batch = {k: torch.as_tensor(v) for k, v in arrays.items()}
    out = {f"MultiMAE only, {mae.config.mask_ratio:.0%} of tokens hidden":
           mae.reconstruct(batch, generator=torch.Generator().manual_seed(seed))}
    for m in MODALITIES:
        rec = mae_drop.reconstruct(batch, dropped=m, generator=torch.Generator().manual_seed(seed))
        out[f"+ drop: {m.upper()} dropped, rebuilt from the others"] = rec
    return {k: {n: v.numpy() for n, v in r.items()} for k, r in out.items()}


def reconstruction_errors(panels: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """Mean squared error over the hidden samples, per panel and modality (z-scored units: 1 = predicting
    the mean); NaN where a modality had nothing hidden."""
    rows = {}
    for title, out in panels.items():
        err = (out["prediction"] - out["target"]) ** 2
        hidden = out["hidden"]
        rows[title] = {m.upper(): float(err[:, i][hidden[:, i]].mean()) if hidden[:, i].any() else np.nan
                       for i, m in enumerate(MODALITIES)}
    return pd.DataFrame(rows).T

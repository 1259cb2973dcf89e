"""Supervised training of a method's model on one task: full fine-tuning of a pretrained checkpoint, or the
same model trained from scratch (MultiMAE Table 1 "Scratch", Table 4 / App E), on the study's one training
loop.

:func:`finetune_task` takes a registry method (its :class:`~physiofm.sections.MethodChoice`, the shared
encoder section and a checkpoint, or None for fresh weights), puts a linear head on its trainable
representation (:meth:`physiofm.methods.Method.features`: for MultiMAE the final LayerNorm and the mean over
tokens), and trains both end to end with (class-weighted) cross-entropy
(:func:`physiofm.finetune.finetune`) on the rows of the label table's ``train`` split, keeping the weights of
the lowest loss on its ``val`` split (a fixed subset of ``train.val_segments`` windows when set); it scores
the ``test`` split. The label table is one row per stored segment
(:func:`physiofm.evaluation.tasks.label_table`) with a ``split`` column of train / val / test.

A run lives in ``out`` (a work folder: a rerun with the same fingerprint returns its results at once, an
interrupted one resumes) with ``checkpoints/{best,last}.pt``, ``curve.csv`` and ``results.parquet``;
:func:`load_finetuned` rebuilds the trained model for analyses (attention rollout of the scratch model).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from physiofm.embeddings import store_key
from physiofm.evaluation.metrics import classification_scores
from physiofm.evaluation.protocol import split_roles, subject_subset
from physiofm.evaluation.results import read_results, results_frame, write_results
from physiofm.evaluation.tasks import Task, task_rows, task_targets
from physiofm.finetune import EncoderWithHead, balanced_class_weights, finetune, predict
from physiofm.io import fresh_dir, mark_done
from physiofm.parallel import parallel_map
from physiofm.sampler import EpochBatches
from physiofm.sections import EncoderSection, MethodChoice, TrainSection
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.training.checkpoint import file_sha256, load_checkpoint, load_model_weights
from physiofm.training.distributed import epoch_sampler
from physiofm.training.run import load_method, train_config

METRICS = ("balanced_accuracy", "kappa", "auroc", "f1")


class TargetDataset(torch.utils.data.Dataset):
    """Segments with their targets: ``ds[i]`` is ``data[i]`` plus ``label`` (``targets[i]``); batched
    indexing reads a whole batch at once."""

    def __init__(self, data: SegmentDataset, targets: np.ndarray) -> None:
        if len(data) != len(targets):
            raise ValueError(f"TargetDataset: {len(data)} segments but {len(targets)} targets")
        self.data, self.targets = data, torch.as_tensor(np.asarray(targets))

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i):
        item = self.data[i]
        item["label"] = self.targets[torch.as_tensor(i)]
        return item


def _batches(data: torch.utils.data.Dataset, batch_size: int, shuffle: bool, seed: int,
             drop_last: bool) -> torch.utils.data.DataLoader:
    order = (epoch_sampler(data, shuffle=True, seed=seed) if shuffle
             else torch.utils.data.SequentialSampler(data))
    batches = EpochBatches(order, min(batch_size, len(data)), drop_last=drop_last)
    return torch.utils.data.DataLoader(data, sampler=batches, batch_size=None)


def task_data(labels: pd.DataFrame, task: Task, seed: int,
              train_subjects: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Store rows and class targets of the train / val / test splits of ``task``: ``train_subjects`` subjects
    of the training rows (seeded), classes renumbered to those seen in training (rows of other classes
    dropped from val and test)."""
    if task.kind not in ("binary", "multiclass"):
        raise ValueError(f"task {task.id}: fine-tuning here is for classification, not {task.kind}")
    rows = task_rows(labels, task)
    y = task_targets(rows, task, labels)[0]
    train, val, test = split_roles(rows)
    if train_subjects is not None:
        chosen = np.zeros(len(rows), bool)
        chosen[train] = subject_subset(rows["subject_id"].to_numpy()[train], train_subjects, seed)
        train = chosen
    classes = np.unique(y[train])
    if len(classes) < 2:
        raise ValueError(f"task {task.id}: the training rows hold one class ({classes}); nothing to learn")
    out = {}
    for name, mask in (("train", train), ("val", val), ("test", test)):
        keep = mask & np.isin(y, classes)
        out[name] = (rows["row"].to_numpy()[keep], np.searchsorted(classes, y[keep]))
    return out


def _fingerprint(name: str, choice: MethodChoice, encoder: EncoderSection | None, checkpoint: Path | None,
                 store: SegmentStore, parts: Mapping[str, tuple[np.ndarray, np.ndarray]], task: Task,
                 train: TrainSection, seed: int, options: Mapping) -> dict:
    h = hashlib.sha256()
    for rows, y in parts.values():
        h.update(rows.tobytes() + np.asarray(y, np.int64).tobytes())
    return {"name": name, "method": choice.model_dump(mode="json"),
            "encoder": None if encoder is None else encoder.model_dump(mode="json"),
            "checkpoint": None if checkpoint is None else file_sha256(Path(checkpoint)),
            "store": store_key(store), "rows": h.hexdigest(), "task": task.id,
            "train": train.model_dump(mode="json"), "seed": seed, "options": dict(options)}


def finetune_task(name: str, choice: MethodChoice, encoder: EncoderSection | None, checkpoint: Path | None,
                  store: SegmentStore, labels: pd.DataFrame, task: Task, train: TrainSection, out: Path,
                  seed: int, *, train_subjects: int | None = None, class_weighted: bool = True,
                  encoder_lr: float | None = None, head_lr: float | None = None,
                  metrics: Sequence[str] = METRICS, device: str = "cpu",
                  probe: str = "finetune") -> pd.DataFrame:
    """Train ``choice``'s model (from ``checkpoint``, or fresh weights initialised with ``seed`` when None)
    with a linear head on ``task``; tidy results (method = ``name``, task, probe, metric, seed, value,
    n_train, n_test, train_subjects) on the test split. ``encoder_lr`` and ``head_lr`` (peak learning rates
    of the encoder and the new head) default to ``train.lr``."""
    parts = task_data(labels, task, seed, train_subjects)
    options = {"train_subjects": train_subjects, "class_weighted": class_weighted, "encoder_lr": encoder_lr,
               "head_lr": head_lr, "metrics": list(metrics), "probe": probe}
    out = Path(out)
    fingerprint = _fingerprint(name, choice, encoder, checkpoint, store, parts, task, train, seed, options)
    if fresh_dir(out, fingerprint):
        return read_results(out / "results.parquet")
    method = load_method(choice, encoder, checkpoint, seed=seed, device=device).train()
    groups = list(method.inputs)
    (tr_rows, y_tr), (va_rows, y_va), (te_rows, y_te) = parts["train"], parts["val"], parts["test"]
    if train.val_segments is not None and len(va_rows) > train.val_segments:  # a fixed validation subset
        pick = np.sort(np.random.default_rng(seed).permutation(len(va_rows))[:train.val_segments])
        va_rows, y_va = va_rows[pick], y_va[pick]
    n_classes = int(max(y_tr.max(), y_va.max(initial=0), y_te.max(initial=0))) + 1
    def batches(rows: np.ndarray, y: np.ndarray, shuffle: bool) -> torch.utils.data.DataLoader:
        data = TargetDataset(SegmentDataset(store, rows, groups=groups), y)
        drop = shuffle and len(rows) > train.batch_size
        return _batches(data, train.batch_size, shuffle, seed, drop_last=drop)

    train_data = batches(tr_rows, y_tr, True)
    val_data = batches(va_rows, y_va, False) if len(va_rows) else None
    weights = balanced_class_weights(y_tr, n_classes) if class_weighted else None
    torch.manual_seed(seed)
    model, result = finetune(method, n_classes, train_data, train_config(train, seed, device), out,
                             encoder_lr=encoder_lr, head_lr=head_lr, encode=_features, class_weights=weights,
                             val_data=val_data)
    load_model_weights(result.best_checkpoint, model)
    proba, y = predict(model, batches(te_rows, y_te, False), task="classification")
    scores = classification_scores(y, proba[:, 1] if n_classes == 2 else proba)
    rows = [{"method": name, "task": task.id, "probe": probe, "metric": m, "seed": seed, "value": scores[m],
             "n_train": len(tr_rows), "n_test": len(te_rows),
             "train_subjects": int(labels.set_index("row").loc[tr_rows, "subject_id"].nunique()),
             "best_step": int(load_checkpoint(result.best_checkpoint)["step"])} for m in metrics]
    results = results_frame(rows)
    write_results(results, out / "results.parquet")
    mark_done(out)
    return results


def _features(method, batch) -> torch.Tensor:
    return method.features(batch)


def finetune_tasks(jobs: Sequence[tuple], workers: int = 1, threads: int = 1) -> pd.DataFrame:
    """:func:`finetune_task` for every job (its positional arguments, then a dict of keyword arguments) over
    ``workers`` processes; the results stacked."""
    parts = parallel_map(_job, jobs, workers, threads, desc="fine-tune")
    return results_frame(pd.concat(parts, ignore_index=True))


def _job(*args) -> pd.DataFrame:
    *positional, kwargs = args
    return finetune_task(*positional, **kwargs)


def load_finetuned(choice: MethodChoice, encoder: EncoderSection | None, out: Path,
                   device: str = "cpu") -> EncoderWithHead:
    """The model :func:`finetune_task` trained in ``out`` (its best weights), in eval mode."""
    path = Path(out) / "checkpoints" / "best.pt"
    if not path.is_file():
        path = Path(out) / "checkpoints" / "last.pt"
    state = load_checkpoint(path)["model"]
    n_out, dim = state["head.weight"].shape
    model = EncoderWithHead(load_method(choice, encoder, None), dim, n_out, _features)
    load_model_weights(path, model)
    return model.to(device).eval()

"""D-BETA's evaluation steps on the engine: frozen embeddings, the linear probe (Table 2), zero-shot
classification (Table 3), the distribution-shift analogue (Table 4), the ablations (Tables 6 and 8) and the
t-SNE of Fig. 3. Every table writes tidy results (:mod:`physiofm.evaluation.results`) and is laid out beside
the paper's numbers (``params/published/dbeta.yaml``) by :mod:`physiofm.dbeta.report`.

Embeddings come from the engine's cache (:func:`physiofm.embeddings.embed_runs`, keyed by the checkpoint's
hash): ``in:ecg`` is each method's probe representation (D-BETA: x', the tanh pooler of the projected CLS;
the ECG-text CLIP: its ECG tower's CLS features); zero-shot reads the space where ECG and text meet (D-BETA:
x' and t'; CLIP: the L2-normalised shared embeddings), :func:`zero_shot_keys`.
Linear probing is the engine's split protocol (:func:`physiofm.evaluation.protocol.split_probe`).
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm import methods
from physiofm.dbeta.data import DOWNSTREAM, GROUP
from physiofm.dbeta.params import RANDOM_INIT, DownstreamTask
from physiofm.dbeta.tasks import PAPER_TASKS, class_texts, column_of, matching, task_codes
from physiofm.embeddings import embed_runs
from physiofm.evaluation.metrics import UndefinedMetricWarning, auroc
from physiofm.evaluation.protocol import fit_split_probe, split_probes
from physiofm.evaluation.results import results_frame
from physiofm.evaluation.tasks import Task, label_table, task_columns, task_rows, task_targets
from physiofm.io import read_json
from physiofm.sections import MethodChoice
from physiofm.splits import read_splits
from physiofm.store import SegmentDataset, SegmentStore, open_stores
from physiofm.training.run import checkpoint, data_assets, load_method

ECG = "ecg"  # the channel set of every probe: the 12-lead ECG


# ------------------------------------------------------------------------------------------ downstream
@dataclass
class Downstream:
    """The downstream sets of the data step: stores, label tables (with ``split``) and the paper's tasks."""

    stores: dict[str, SegmentStore]
    labels: dict[str, pd.DataFrame]
    tasks: dict[str, Task]  # paper task key -> Task on its store

    @classmethod
    def open(cls, data_dir: Path) -> Downstream:
        root = Path(data_dir) / DOWNSTREAM
        stores = open_stores(root / "stores")
        splits = read_splits(root)
        labels, tasks = {}, {}
        for name, entries in read_json(root / "sets.json").items():
            table = label_table(stores[name].index)
            mine = splits[splits["store"] == name].sort_values("row")
            table["split"] = mine["split"].to_numpy()
            for entry in map(DownstreamTask.model_validate, entries):
                task = Task(entry.key, "multilabel", (entry.task,), store=name, inputs=ECG,
                            description=PAPER_TASKS[entry.key].label)
                cols = list(task_columns(table, task))
                # records with at least one of the task's classes (PTB-XL benchmark's n_<task> > 0)
                table[f"n_{entry.key}"] = table[cols].sum(1)
                tasks[entry.key] = task.but(columns=tuple(cols), where=f"n_{entry.key} > 0")
            labels[name] = table
        return cls(stores, labels, tasks)

    def dataset(self, store: str) -> SegmentDataset:
        return SegmentDataset({store: self.stores[store]}, groups=(GROUP,))

    def test_rows(self, key: str) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
        """The task's test rows, their (N, C) targets and the class codes."""
        task = self.tasks[key]
        labels = self.labels[task.store]
        rows = task_rows(labels, task)
        rows = rows[rows["split"] == "test"]
        y, cols = task_targets(rows, task, labels)
        return rows, y, task_codes(key, cols)

    def codes(self) -> dict[str, list[str]]:
        """Task key -> its class codes (label columns without the loader prefix)."""
        return {k: task_codes(k, t.columns) for k, t in self.tasks.items()}

    def class_table(self) -> pd.DataFrame:
        """Positive records per class and split (the task's records only)."""
        out = []
        for key, task in self.tasks.items():
            rows = task_rows(self.labels[task.store], task)
            for col, code in zip(task.columns, task_codes(key, task.columns), strict=True):
                n = rows.groupby("split")[col].sum()
                out.append({"task": PAPER_TASKS[key].label, "class": code, **{s: int(n.get(s, 0)) for s in
                                                                             ("train", "val", "test")}})
        return pd.DataFrame(out).set_index(["task", "class"])

    def split_table(self) -> pd.DataFrame:
        """Per task: classes, train / valid / test records, beside Table 9's counts."""
        out = []
        for key, task in self.tasks.items():
            rows = task_rows(self.labels[task.store], task)
            paper = PAPER_TASKS[key]
            n = rows["split"].value_counts()
            positives = rows[list(task.columns)].sum()
            out.append({"task": paper.label, "set": task.store, "classes": len(task.columns),
                        "classes with positives": int((positives > 0).sum()),
                        "train": int(n.get("train", 0)), "valid": int(n.get("val", 0)),
                        "test": int(n.get("test", 0)), "paper classes": paper.classes,
                        "paper train": paper.train, "paper valid": paper.valid,
                        "paper test": paper.test})
        return pd.DataFrame(out).set_index("task")


# ------------------------------------------------------------------------------------------ embeddings
def run_choices(methods: Sequence[str], runs: Mapping[str, MethodChoice],
                assets: Mapping[str, Path]) -> dict[str, MethodChoice]:
    """Each method's choice with its assets resolved; ``random_init`` is the untrained D-BETA model."""
    return {m: runs["dbeta" if m == RANDOM_INIT else m].resolved(assets) for m in methods}


def run_jobs(methods: Sequence[str], runs: Mapping[str, MethodChoice], data_dir: Path, pretrain_dir: Path,
             which: str, seed: int) -> dict[str, dict[int, tuple]]:
    """:func:`physiofm.embeddings.embed_runs` jobs: each run's ``which`` checkpoint of ``seed``."""
    choices = run_choices(methods, runs, data_assets(data_dir))
    ckpt = {m: None if m == RANDOM_INIT else checkpoint(pretrain_dir, m, seed, which) for m in methods}
    return {m: {seed: (choices[m], None, ckpt[m], seed)} for m in methods}


def zero_shot_keys(choice: MethodChoice) -> tuple[str, str]:
    """(ECG key, text key) of ``method.embeddings`` in the space where a method compares ECG and text."""
    if choice.method == "dbeta":
        return "embedding", "text"
    if choice.method == "clip":
        ecg, text = choice.config.get("towers", ("ecg12", "report"))
        return f"{ecg}_shared", f"{text}_shared"
    raise ValueError(f"method {choice.method!r} has no text tower for zero-shot classification")


def embedding_keys(choice: MethodChoice) -> tuple[str, str | None]:
    """(probe key, zero-shot ECG key or None) of ``method.embeddings``: both come from one forward pass."""
    if choice.method == "dbeta":
        return "embedding", zero_shot_keys(choice)[0]  # x' is both (the same array)
    if choice.method == "clip":
        return choice.config.get("probe", "ppg"), zero_shot_keys(choice)[0]
    return methods.build(choice.method, choice.config).probe_key, None


def _reuse(reuse: Sequence[Path], cache: Path) -> None:
    """Copy the entries of earlier steps' caches (same store, same run name) into ``cache``; the cache key
    (weights hash + what was embedded) decides whether one is a hit, and :func:`embed_runs` deletes the
    copies it does not use."""
    for earlier in reuse:
        if not (Path(earlier) / "manifest.json").is_file():
            continue
        for key in {k for by_seed in read_json(Path(earlier) / "manifest.json").values()
                    for k in by_seed.values()}:
            if (Path(earlier) / key).is_dir() and not (cache / key).exists():
                shutil.copytree(Path(earlier) / key, cache / key)


def embeddings(jobs: Mapping[str, Mapping[int, tuple]], down: Downstream, cache: Path, batch_size: int,
               workers: int = 1, zero_shot: bool = False,
               reuse: Sequence[Path] = ()) -> dict[str, dict[str, np.ndarray]]:
    """method -> store -> (N, D) of every downstream record: the probe representation, or with ``zero_shot``
    the ECG embedding of the ECG-text space (:func:`zero_shot_keys`). One seed per method.

    Each run embeds each store once, keeping both representations (:func:`embedding_keys`), so asking for
    the other one is a cache hit; ``reuse`` names earlier steps' cache folders whose entries are read
    instead of embedding again (the same checkpoint embeds to the same entry)."""
    out: dict[str, dict[str, np.ndarray]] = {m: {} for m in jobs}
    for m, by_seed in jobs.items():
        choice = next(iter(by_seed.values()))[0]
        probe, zs = embedding_keys(choice)
        if zero_shot and zs is None:
            raise ValueError(f"run {m!r} ({choice.method}) has no ECG-text space for zero-shot")
        keys = tuple(dict.fromkeys(k for k in (probe, zs) if k is not None))
        for store in down.stores:
            folder = Path(cache) / store / m
            folder.mkdir(parents=True, exist_ok=True)
            _reuse([Path(r) / store / m for r in reuse], folder)
            emb = embed_runs({m: by_seed}, down.dataset(store), folder, batch_size=batch_size,
                             workers=workers, keys=keys)
            out[m][store] = next(iter(emb[m].values()))[zs if zero_shot else probe]
    return out


def embedding_spread(emb: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """How much each model's representation varies between records: per model and store, the mean over
    dimensions of the standard deviation over records, divided by the mean absolute value. Near 0 the
    representation is (almost) the same vector for every record, a collapse no probe can read."""
    rows = {}
    for m, by_store in emb.items():
        for store, x in by_store.items():
            x = np.asarray(x, dtype=np.float64)
            rows[(m, store)] = {"records": len(x), "dimensions": x.shape[1],
                                "relative spread": x.std(axis=0).mean() / max(np.abs(x).mean(), 1e-12)}
    table = pd.DataFrame(rows).T
    table.index.names = ["method", "store"]
    return table.astype({"records": int, "dimensions": int})


def class_embeddings(jobs: Mapping[str, Mapping[int, tuple]], keys: Sequence[str], kind: str,
                     ) -> dict[str, dict[str, tuple[list[str], np.ndarray]]]:
    """method -> task key -> (class codes, (C, D) text embeddings of their ``kind`` texts)."""
    out: dict[str, dict[str, tuple[list[str], np.ndarray]]] = {}
    for m, by_seed in jobs.items():
        choice, encoder, ckpt, seed = next(iter(by_seed.values()))
        method = load_method(choice, encoder, ckpt, seed)
        text_key = zero_shot_keys(choice)[1]
        out[m] = {}
        for key, codes in keys.items():
            texts, _ = class_texts(key, codes, kind)
            out[m][key] = (list(codes), method.embeddings({"report": texts})[text_key].float().numpy())
    return out


def class_text_table(down: Downstream, kind: str) -> pd.DataFrame:
    """The zero-shot text of every class (as embedded: cleaned) and the source of its definition."""
    from physiofm.dbeta.tasks import load_class_texts

    data = load_class_texts()
    rows = []
    for key, codes in down.codes().items():
        texts, missing = class_texts(key, codes, kind)
        for code, text in zip(codes, texts, strict=True):
            entry = data["classes"].get(key, {}).get(code)
            rows.append({"task": PAPER_TASKS[key].label, "class": code, "text": text,
                         "source": entry["source"] if entry else "none: the code itself"})
    return pd.DataFrame(rows).set_index(["task", "class"])


def parameter_counts(runs: Mapping[str, MethodChoice], data_dir: Path) -> dict[str, dict[str, int]]:
    """Parameters per part of each run's model: D-BETA's parts (``ecg_path`` is what a probe reads), a
    CLIP's towers and projectors."""
    assets = data_assets(data_dir)
    out = {}
    for name, choice in runs.items():
        method = load_method(choice.resolved(assets), None, None)
        if choice.method == "dbeta":
            out[name] = method.net.parameter_counts()
        else:
            n = {f"{t} encoder": sum(p.numel() for p in e.parameters()) for t, e in method.encoders.items()}
            n["projectors"] = sum(p.numel() for p in method.projectors.parameters())
            n["total"] = sum(p.numel() for p in method.parameters())
            out[name] = n
    return out


# --------------------------------------------------------------------------------------- linear probe
def linear_probe(emb: Mapping[str, Mapping[str, np.ndarray]], down: Downstream, keys: Sequence[str], *,
                 label_fractions: Sequence[float], seeds: Sequence[int], probe_kwargs: Mapping,
                 subsample_seed: int = 42, workers: int = 1,
                 earlier: pd.DataFrame | None = None) -> pd.DataFrame:
    """Table 2: :func:`physiofm.evaluation.protocol.split_probe` of every method on every task.

    ``earlier``: results of this same protocol (same head, subsample seed and embeddings: an earlier step's
    table); a method with rows there for every task, fraction and seed is taken from it, not probed again."""
    keys = [k for k in keys if k in down.tasks]
    reused = pd.DataFrame()
    if earlier is not None and len(earlier):
        reused = earlier[earlier["method"].isin(list(emb)) & earlier["task"].isin(keys)
                         & earlier["label_fraction"].isin(list(label_fractions))
                         & earlier["seed"].isin(list(seeds))]
        need = {(k, float(f), int(s)) for k in keys for f in label_fractions for s in seeds}
        done = [m for m, g in reused.groupby("method")
                if set(zip(g["task"], g["label_fraction"].astype(float), g["seed"].astype(int))) == need]
        reused = reused[reused["method"].isin(done)]
    skip = set(reused["method"]) if len(reused) else set()
    jobs = [(m, down.tasks[k]) for m in emb for k in keys if m not in skip]
    fresh = pd.DataFrame()
    if jobs:
        fresh = split_probes(emb, down.labels, jobs, workers=workers, seeds=seeds,
                             label_fractions=label_fractions, probe_kwargs=probe_kwargs,
                             subsample_seed=subsample_seed)
    return results_frame(pd.concat([reused, fresh], ignore_index=True))


# ----------------------------------------------------------------------------------------- zero-shot
def _macro_auroc(y: np.ndarray, scores: np.ndarray) -> tuple[float, int]:
    """Macro AUROC over the columns where ``y`` holds both classes, and how many such columns."""
    ok = (y.min(0) != y.max(0))
    if not ok.any():
        return float("nan"), 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return float(auroc(y[:, ok], scores[:, ok])), int(ok.sum())


def zero_shot(emb: Mapping[str, Mapping[str, np.ndarray]],
              text: Mapping[str, Mapping[str, tuple[list[str], np.ndarray]]], down: Downstream,
              keys: Sequence[str], kind: str, seed: int = 0) -> pd.DataFrame:
    """Table 3: AUROC of the raw dot product x'_n . t'_c per class on each task's test records, macro over
    the classes present in the test set (rows: probe ``zero_shot``, ``texts`` = ``kind``)."""
    out = []
    for m in emb:
        for key in keys:
            if key not in down.tasks:
                continue
            rows, y, codes = down.test_rows(key)
            _, t = text[m][key]
            scores = emb[m][down.tasks[key].store][rows["row"].to_numpy()] @ t.T
            value, n = _macro_auroc(y, scores)
            out.append({"method": m, "task": key, "probe": "zero_shot", "metric": "auroc", "seed": seed,
                        "value": value, "texts": kind, "classes_scored": n, "n_test": len(rows)})
    return results_frame(out)


def shift_targets(down: Downstream, source: str, target: str) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The target task's test rows and their labels in the *source* classes that Table 11 matches: column c
    is 1 when a record has any target class matched to source class c."""
    rows, y, codes = down.test_rows(target)
    match = matching(source, target)
    index = {c: i for i, c in enumerate(codes)}
    classes = [c for c, ts in match.items() if any(t in index for t in ts)]
    mapped = np.stack([y[:, [index[t] for t in match[c] if t in index]].max(1) for c in classes], axis=1)
    return rows, mapped, classes


def distribution_shift(lp_emb: Mapping[str, Mapping[str, np.ndarray]],
                       zs_emb: Mapping[str, Mapping[str, np.ndarray]],
                       text: Mapping[str, Mapping[str, tuple[list[str], np.ndarray]]], down: Downstream,
                       columns: Sequence[str], *, probe_kwargs: Mapping, seed: int = 0) -> pd.DataFrame:
    """Table 4's analogue: per column source -> target, a linear probe trained on 100 % of the source task
    (selected on its validation rows) and each zero-shot model (source class texts), both scored on the
    target's test records in the source classes Table 11 matches (macro AUROC over the matched classes)."""
    out = []
    for column in columns:
        source, target = column_of(column)
        if source not in down.tasks or target not in down.tasks:
            continue
        rows, y, classes = shift_targets(down, source, target)
        src_task = down.tasks[source]
        src_codes = task_codes(source, src_task.columns)
        for m, by_store in lp_emb.items():
            probe, _, y_src, _, keep = fit_split_probe(by_store[src_task.store], down.labels[src_task.store],
                                                       src_task, seed=seed, label_fraction=1.0,
                                                       probe_kwargs=probe_kwargs)
            taught = [c for c, k in zip(src_codes, keep, strict=True) if k]
            X = by_store[down.tasks[target].store][rows["row"].to_numpy()]
            proba = probe.predict_proba(X) if probe is not None else np.full((len(X), len(taught)), np.nan)
            cols = [i for i, c in enumerate(classes) if c in taught]
            value, n = _macro_auroc(y[:, cols], proba[:, [taught.index(classes[i]) for i in cols]])
            out.append({"method": m, "task": column, "probe": "linear_100", "metric": "auroc", "seed": seed,
                        "value": value, "classes_scored": n, "n_test": len(rows)})
        for m, by_store in zs_emb.items():
            codes, t = text[m][source]
            scores = by_store[down.tasks[target].store][rows["row"].to_numpy()] @ t[[codes.index(c)
                                                                                       for c in classes]].T
            value, n = _macro_auroc(y, scores)
            out.append({"method": m, "task": column, "probe": "zero_shot", "metric": "auroc", "seed": seed,
                        "value": value, "classes_scored": n, "n_test": len(rows)})
    return results_frame(out)


# ------------------------------------------------------------------------------------------------ t-SNE
def single_label_rows(down: Downstream, key: str, min_per_class: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Fig. 3's selection: test records with exactly one class of the task, of classes with at least
    ``min_per_class`` such records; returns the rows and their class codes."""
    rows, y, codes = down.test_rows(key)
    single = y.sum(1) == 1
    label = np.asarray(codes)[y.argmax(1)]
    rows, label = rows[single], label[single]
    counts = pd.Series(label).value_counts()
    keep = np.isin(label, counts.index[counts >= min_per_class])
    return rows[keep], label[keep]


def tsne_points(emb: Mapping[str, Mapping[str, np.ndarray]], down: Downstream, key: str, min_per_class: int,
                perplexity: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(2-D t-SNE coordinates of the selected test records per method, silhouette per method) — the
    silhouette (cosine, in the embedding space and in the t-SNE plane) puts "well-defined and distinct
    clusters" into a number."""
    from sklearn.manifold import TSNE
    from sklearn.metrics import silhouette_score

    rows, label = single_label_rows(down, key, min_per_class)
    store = down.tasks[key].store
    points, scores = [], []
    for m, by_store in emb.items():
        X = by_store[store][rows["row"].to_numpy()]
        if len(np.unique(label)) < 2 or len(X) <= perplexity:
            continue
        xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(X)
        points.append(pd.DataFrame({"method": m, "x": xy[:, 0], "y": xy[:, 1], "class": label}))
        scores.append({"method": m, "records": len(X), "classes": len(np.unique(label)),
                       "silhouette (embedding, cosine)": silhouette_score(X, label, metric="cosine"),
                       "silhouette (t-SNE plane)": silhouette_score(xy, label)})
    return (pd.concat(points, ignore_index=True) if points else pd.DataFrame(),
            pd.DataFrame(scores).set_index("method") if scores else pd.DataFrame())

"""D-BETA's evaluation as data: the six downstream tasks (Table 9), Table 11's category matching for the
distribution-shift experiment (Table 4), and the zero-shot class texts (``params/data/dbeta_classes.yaml``).

Task keys are those of ``params/published/dbeta.yaml``; class codes are the suffixes of the dataset loaders'
label columns (PTB-XL ``super_NORM``, CPSC2018 / CSN ``dx_AF``). Table 11 prints CPSC2018's classes with the
challenge's names (1AVB, CRBBB, CLBBB, AFIB, VPC); :data:`CPSC2018_NAMES` maps them to the loader's codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from physiofm.paths import repo_root
from physiofm.text import clean_report


@dataclass(frozen=True)
class PaperTask:
    """One downstream task of Table 9: its key, the paper's label, the dataset and the loader's task."""

    key: str
    label: str
    dataset: str
    loader_task: str
    prefix: str  # label-column prefix of the loader
    classes: int  # Table 9
    train: int
    valid: int
    test: int


PAPER_TASKS: dict[str, PaperTask] = {t.key: t for t in (
    PaperTask("ptbxl_super", "PTBXL-Super", "ptbxl", "superdiagnostic", "super_", 5, 17084, 2146, 2158),
    PaperTask("ptbxl_sub", "PTBXL-Sub", "ptbxl", "subdiagnostic", "sub_", 23, 17084, 2146, 2158),
    PaperTask("ptbxl_form", "PTBXL-Form", "ptbxl", "form", "form_", 19, 7197, 901, 880),
    PaperTask("ptbxl_rhythm", "PTBXL-Rhythm", "ptbxl", "rhythm", "rhythm_", 12, 16832, 2100, 2098),
    PaperTask("cpsc2018", "CPSC2018", "cpsc2018", "diagnosis", "dx_", 9, 4950, 551, 1376),
    PaperTask("csn", "CSN", "csn", "diagnosis", "dx_", 38, 16546, 1860, 4620),
)}

# Table 4's columns: source -> target.
TABLE_4_COLUMNS = ("ptbxl_super_to_cpsc2018", "ptbxl_super_to_csn", "cpsc2018_to_ptbxl_super",
                   "cpsc2018_to_csn", "csn_to_ptbxl_super", "csn_to_cpsc2018")

# Table 11 as printed: (left task, right task) -> left class -> right classes (None: no match).
TABLE_11: dict[tuple[str, str], dict[str, list[str] | None]] = {
    ("ptbxl_super", "cpsc2018"): {"HYP": None, "NORM": ["NORM"], "CD": ["1AVB", "CRBBB", "CLBBB"], "MI": None,
                                  "STTC": ["STE", "STD"]},
    ("ptbxl_super", "csn"): {"HYP": ["RVH", "LVH"], "NORM": ["SR"],
                             "CD": ["2AVB", "2AVB1", "1AVB", "AVB", "LBBB", "RBBB", "STDD"], "MI": ["MI"],
                             "STTC": ["STTC", "STE", "TWO", "STTU", "QTIE", "TWC"]},
    ("cpsc2018", "csn"): {"AFIB": ["AFIB"], "VPC": ["VPB"], "NORM": ["SR"], "1AVB": ["1AVB"],
                          "CRBBB": ["RBBB"], "STE": ["STE"], "PAC": ["APB"], "CLBBB": ["LBBB"],
                          "STD": ["STE", "STTC", "STTU", "STDD"]},
}
# CPSC2018's challenge names in Table 11 -> the loader's class codes (physiofm.datasets.cpsc2018.CLASSES).
CPSC2018_NAMES = {"1AVB": "IAVB", "CRBBB": "RBBB", "CLBBB": "LBBB", "AFIB": "AF", "VPC": "PVC"}


def _codes(task: str, names: Sequence[str] | None) -> list[str] | None:
    if names is None:
        return None
    return [CPSC2018_NAMES.get(n, n) if task == "cpsc2018" else n for n in names]


def column_of(column: str) -> tuple[str, str]:
    """``"source_to_target"`` -> (source task, target task)."""
    if column not in TABLE_4_COLUMNS:
        raise KeyError(f"unknown Table 4 column {column!r}; known: {TABLE_4_COLUMNS}")
    source, target = column.split("_to_")
    return source, target


def matching(source: str, target: str) -> dict[str, list[str]]:
    """Table 11 for ``source`` -> ``target``: each source class code with a match -> its target class codes
    (loader codes); the table is read in either direction."""
    if (source, target) in TABLE_11:
        table = TABLE_11[(source, target)]
        out = {_codes(source, [s])[0]: _codes(target, t) for s, t in table.items() if t}
    elif (target, source) in TABLE_11:
        out: dict[str, list[str]] = {}
        for left, rights in TABLE_11[(target, source)].items():
            for r in _codes(source, rights) or []:
                out.setdefault(r, [])
                out[r] += _codes(target, [left])
    else:
        raise KeyError(f"Table 11 matches no categories of {source} and {target}")
    return out


# ---------------------------------------------------------------------------------------- class texts
CLASS_TEXTS = Path("params") / "data" / "dbeta_classes.yaml"


@cache
def load_class_texts(path: str | None = None) -> dict:
    """``params/data/dbeta_classes.yaml``: ``sources`` and ``classes`` (task -> code -> name, description,
    source)."""
    file = Path(path) if path else repo_root() / CLASS_TEXTS
    if not file.is_file():
        raise FileNotFoundError(f"{file}: the zero-shot class texts are missing")
    data = yaml.safe_load(file.read_text())
    for task, classes in data["classes"].items():
        for code, entry in classes.items():
            missing = {"name", "description", "source"} - set(entry)
            if missing or entry["source"] not in data["sources"]:
                raise ValueError(f"{file}: {task}/{code} lacks {sorted(missing)} or names an unknown source")
    return data


def class_texts(task: str, codes: Sequence[str], kind: str = "description",
                path: str | None = None) -> tuple[list[str], list[str]]:
    """(cleaned text per class code, codes without an entry) of ``task``: the written description or the raw
    name (``kind``); a code without an entry falls back to itself, lower-cased, as its name."""
    if kind not in ("description", "name"):
        raise ValueError(f"class text kind must be 'description' or 'name', got {kind!r}")
    table = load_class_texts(path)["classes"].get(task, {})
    texts, missing = [], []
    for code in codes:
        entry = table.get(code)
        if entry is None:
            missing.append(code)
        texts.append(clean_report(entry[kind] if entry else code.replace("_", " ")))
    return texts, missing


def task_codes(task: str, columns: Sequence[str]) -> list[str]:
    """Class codes of a task's label columns (the loader prefix removed)."""
    prefix = PAPER_TASKS[task].prefix
    return [c[len(prefix):] if c.startswith(prefix) else c for c in columns]

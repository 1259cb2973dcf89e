"""A step's settings in the profile that ran beside the paper profile's: the table every paper's notebooks
show before their results, so a reader sees at once where a demo departs from the paper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from physiofm.config import PaperParams


def flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as ``{"a.b.c": "value"}``; lists and tuples joined with commas."""
    out = {}
    for k, v in d.items():
        if isinstance(v, Mapping) and v:  # an empty mapping shows as {}
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = ", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
    return out


def settings_table(params: PaperParams, paper: PaperParams, step: str,
                   shared: Sequence[str] = ()) -> pd.DataFrame:
    """Step ``step``'s settings in ``params`` ("this profile") beside ``paper``'s ("paper profile"), one row
    per dotted key; with ``shared``, those fields of the ``shared`` section too (e.g. ``("encoder",
    "methods")``: what pretraining means), prefixed with their names. Unset (None) values are left out."""
    def settings(p: PaperParams) -> dict[str, str]:
        out = flat(p.step(step).model_dump(mode="json", exclude_none=True))
        for name in shared:
            out |= flat({name: p.shared.model_dump(mode="json", exclude_none=True, include={name})[name]})
        return out

    ours, theirs = settings(params), settings(paper)
    keys = list(dict.fromkeys([*theirs, *ours]))
    return pd.DataFrame({"this profile": [ours.get(k, "") for k in keys],
                         "paper profile": [theirs.get(k, "") for k in keys]}, index=keys)

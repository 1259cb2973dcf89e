"""Committed notebooks: no outputs or execution counts, exactly one `parameters` cell, no def/class, every
figure shown with its caption through `physiofm.figures.show`."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from physiofm.runner import STEP_FILE

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*/*.ipynb"))


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert STEP_FILE.match(path.name), f"{path.name}: must be named NN-<step>.ipynb"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"{path}: has outputs"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path}: {len(tagged)} cells tagged 'parameters'"
    for c in code:
        for line in c.source.splitlines():
            assert not line.lstrip().startswith(("def ", "class ", "async def ")), (
                f"{path}: defines a function or class ({line.strip()}); put it in lib/physiofm"
            )
            # plt.show() or fig.savefig() leaves a figure without a caption in the book.
            assert "plt.show(" not in line and ".savefig(" not in line, (
                f"{path}: {line.strip()!r}: show figures with physiofm.figures.show(fig, caption, path)"
            )

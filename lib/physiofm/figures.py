"""Show a figure in a notebook with its caption, the way the book prints it, and keep a PNG of it.

Every figure of the book comes from a notebook cell that calls :func:`show`. It renders the figure once
as a PNG, writes that PNG to ``path`` (an artifact of the step) when given, and displays an HTML
``<figure>`` with the image and a ``<figcaption>`` that says what is plotted. The same output reads the
same in JupyterLab and in the built book, so a caption cannot go missing between them.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

from IPython.display import HTML, display
from matplotlib.figure import Figure


def figure_html(png: bytes, caption: str, alt: str | None = None) -> str:
    """An HTML ``<figure>`` holding ``png`` inline and ``caption`` (escaped) as its ``<figcaption>``."""
    data = base64.b64encode(png).decode("ascii")
    alt_text = html.escape(alt or caption, quote=True)
    return (
        '<figure class="physiofm-figure">'
        f'<img src="data:image/png;base64,{data}" alt="{alt_text}" style="max-width:100%;height:auto"/>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def show(fig: Figure, caption: str, path: str | Path | None = None, dpi: int = 110) -> None:
    """Display ``fig`` with ``caption`` and close it; also write it to ``path`` (PNG) when given.

    Returns nothing, so that a cell ending in ``show(...)`` shows the figure and nothing else.

    Args:
        fig: a matplotlib figure.
        caption: one or two sentences saying what is plotted (axes, units, what each line or colour is).
        path: where to keep the PNG (parent folders are created); None keeps none.
        dpi: resolution of the PNG, in dots per inch.

    """
    import matplotlib.pyplot as plt

    if not caption or not caption.strip():
        raise ValueError("every figure needs a caption that says what is plotted")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    png = buf.getvalue()
    plt.close(fig)
    if path is not None:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(png)
        tmp.replace(out)
    display(HTML(figure_html(png, caption)))


def label_traces(fig: Figure, titles: Sequence[str], legend_columns: int = 2) -> Figure:
    """Finish a one-column figure of signal traces (one axes per example, time in s on x): each axes gets
    its title on the left and no y ticks (traces are offset, so their values carry no unit), the first a
    legend, the last the time label. Returns ``fig``."""
    axes = fig.axes
    for ax, title in zip(axes, titles, strict=False):  # axes beyond the titles (no example) stay empty
        ax.set_title(title, fontsize=8, loc="left")
        ax.set_yticks([])
    axes[0].legend(loc="upper right", fontsize=7, ncol=legend_columns)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    return fig

"""Markdown tables for reports (the demo report, benchmark sections) without extra dependencies."""

from __future__ import annotations

from typing import Callable

import pandas as pd


def markdown_table(frame: pd.DataFrame, fmt: Callable[[object], str] = str) -> str:
    """A pipe table of ``frame`` (index dropped); ``fmt`` formats each cell."""
    cols = [str(c) for c in frame.columns]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        rows.append("| " + " | ".join(fmt(v) for v in r.to_list()) + " |")
    return "\n".join(rows)

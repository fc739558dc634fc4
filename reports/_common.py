"""Helpers every report page uses: the Jinja2 environment and number formatting."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["env", "fmt"]


def env():
    """The Jinja2 environment of the report templates (autoescaping on)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
    )


def fmt(v) -> str:
    """A number with three decimals, or a dash for a missing one."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v:.3f}" if isinstance(v, float) else str(v)

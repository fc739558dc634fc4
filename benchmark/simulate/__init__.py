"""Simulated survey stamps and galaxy cutouts: the embedded default data (issue 3)."""

__all__: list[str] = []

"""Self-contained HTML reports built from a results store (issue 7)."""

__all__: list[str] = []

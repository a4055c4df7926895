"""Entry point of the cashier window (PySide6)."""

from __future__ import annotations


def run_ui() -> int:
    from pos_app.ui.main import main

    return main()

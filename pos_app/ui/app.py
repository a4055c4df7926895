"""Entry point of the cashier window (PySide6)."""

from __future__ import annotations


def run_ui() -> int:
    """Open the window; without a usable display say so and point to the CLI (exit 3)."""
    from pos_app.ui.display_check import display_problem, report_no_display

    problem = display_problem()
    if problem is not None:
        return report_no_display(problem)
    from pos_app.ui.main import main

    return main()

"""The history screen on a grown database (issue 20), looked at by a person.

``POS_BENCH_SCALE_KEEP=DIR POS_BENCH_ONLY=scale python tests/bench/bench.py`` keeps the five-year
terminal in DIR/cinco-anos (and an empty one in DIR/vazio); then
``python tests/bench/history_screen.py DIR`` opens the manager's history dialog offscreen on both,
times the search of yesterday, of the last whole month and of a day in an archived year, and saves
screenshots in test-artifacts/manager/history_<case>.png. Prints one JSON line with the times (ms).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POS_SECRETS", "arquivo")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(root: Path) -> int:
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QApplication

    from pos_app.app import open_app
    from pos_app.core.services.users import authenticate
    from pos_app.ui.manager.history_dialog import HistoryDialog
    from pos_app.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    out = ROOT / "test-artifacts" / "manager"
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    for name in ("vazio", "cinco-anos"):
        folder = root / name
        os.environ["POS_DATA_DIR"] = str(folder)
        ctx = open_app(folder, start_sandbox=False)
        try:
            ctx.maintenance.join()
            today = ctx.now().date()
            dialog = HistoryDialog(ctx, authenticate(ctx, "9999"))
            dialog.resize(1366, 768)
            dialog.show()
            month_end = today.replace(day=1) - timedelta(days=1)
            cases = {"dia": (today - timedelta(days=1),) * 2, "mes": (month_end.replace(day=1), month_end)}
            if name == "cinco-anos":
                from pos_app.core.store.archive import list_archives

                years = [a.year for a in list_archives(folder)]
                if years:
                    old = date(min(years) + 1, 3, 15)
                    cases["dia-arquivado"] = (old, old)
            for case, (de, ate) in cases.items():
                dialog.de.setDate(QDate(de.year, de.month, de.day))
                dialog.ate.setDate(QDate(ate.year, ate.month, ate.day))
                app.processEvents()
                t = time.perf_counter()
                dialog.search()
                app.processEvents()
                times[f"{name}:{case}"] = round((time.perf_counter() - t) * 1000, 1)
                dialog.grab().save(str(out / f"history_{name}_{case}.png"))
            dialog.close()
            dialog.deleteLater()
            app.processEvents()
        finally:
            ctx.close()
    print(json.dumps(times, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))

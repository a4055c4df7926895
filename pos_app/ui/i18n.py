"""The one translation mechanism of the UI.

Every user-facing string goes through :func:`tr`; the source strings are Brazilian Portuguese
(the product's language), so no catalog is needed to run. A ``.qm`` file for another language
can be dropped in ``pos_app/resources/translations/pos_app_<locale>.qm`` (``lupdate`` finds the
``tr("...")`` calls). Qt's own pt_BR catalog is installed too, for the standard dialogs.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

CONTEXT = "pos"
_installed: list[QTranslator] = []  # kept alive for the application's lifetime


def tr(text: str, context: str = CONTEXT) -> str:
    """Translate a Portuguese source string (identity when no catalog is installed)."""
    return QCoreApplication.translate(context, text)


def tr_noop(text: str) -> str:
    """Marks a string kept in a table for translation later with ``tr(value)``."""
    return text


def install_translators(app: QCoreApplication, locale: str = "pt_BR") -> None:
    """Qt's own strings (file dialogs, standard buttons) and our catalog when there is one."""
    from pos_app.core import paths

    QLocale.setDefault(QLocale(locale))
    qt = QTranslator(app)
    if qt.load(f"qtbase_{locale}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    folder = paths.resources_dir() / "translations"
    ours = QTranslator(app)
    if folder.is_dir() and ours.load(f"pos_app_{locale}", str(folder)):
        app.installTranslator(ours)
        _installed.append(ours)

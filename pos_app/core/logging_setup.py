"""Logging of a terminal: rotating files in ``data_dir/logs`` for support, masked at the source.

``setup_logging(data_dir)`` is called once by ``pos_app.cli.main`` and by the cashier window; calling
it again (tests, another data folder) replaces the handlers it installed before. Every handler gets
:class:`MaskingFilter`, so no record reaches a file or the console with the API token, the
certificate password or a consumer's CPF/CNPJ/e-mail, whoever logged it.

Levels: the file keeps INFO (every API exchange) unless ``POS_LOG_LEVEL`` asks for more (DEBUG);
the console shows ERROR and up (or ``POS_LOG_LEVEL``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import logging.handlers
import os
import sys
from pathlib import Path
from queue import SimpleQueue
from typing import Any

import platformdirs

from pos_app.core.masking import mask_text

LOG_FILE = "pos-app.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 4  # pos-app.log + 4 rotated files = 5 x 2 MB
FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

_installed: list[logging.Handler] = []
_listeners: list[logging.handlers.QueueListener] = []
_file_handlers: list[logging.Handler] = []
_atexit_registered = False


class _BackgroundHandler(logging.handlers.QueueHandler):
    """Hands each record to the log writer thread untouched.

    Masking, formatting and disk writes happen there, never on the thread that is selling: a sale
    must not wait for the log file.
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class MaskingFilter(logging.Filter):
    """Rewrites each record with secrets and personal data masked (message, arguments, traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        record.exc_info = None  # the masked text above is what gets printed
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


class _ConsoleHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (tests and the UI swap it), like logging's last resort."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _LazyFileHandler(logging.handlers.RotatingFileHandler):
    """Creates ``logs/`` only when the first record is written (``pos-app --help`` leaves no trace)."""

    def _open(self) -> Any:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    # Logs are best effort: a full or read-only disk must never print a traceback (the cashier sees
    # the storage message instead), neither while logging nor in the atexit flush.
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handleError(record)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            super().flush()

    def close(self) -> None:
        try:
            super().close()
        except OSError:
            with contextlib.suppress(Exception):
                if self.stream is not None:
                    self.stream = None


class _MaskingFormatter(logging.Formatter):
    """Second net: masks the final line too (a handler someone adds without the filter)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def log_dir(data_dir: Path) -> Path:
    return data_dir / "logs"


def setup_logging(data_dir: Path | None = None, level: str | None = None) -> Path | None:
    """Install the rotating file log (and a console handler); returns the log file, or None.

    ``data_dir`` defaults to the terminal's data folder (``POS_DATA_DIR`` or the user's). Never
    raises: a terminal whose log folder cannot be written still sells (console only).
    """
    if data_dir is None:  # where paths.data_dir() points, without creating it yet
        env = os.environ.get("POS_DATA_DIR")
        data_dir = Path(env) if env else Path(platformdirs.user_data_dir("pos-app", "PosApp"))
    requested = (level or os.environ.get("POS_LOG_LEVEL") or "").upper()
    file_level = logging.DEBUG if requested == "DEBUG" else logging.INFO
    # The console is the cashier's or the script's: only errors there; everything goes to the file.
    console_level = logging.getLevelName(requested) if requested else logging.ERROR
    if not isinstance(console_level, int):
        console_level = logging.ERROR

    shutdown_logging()
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(shutdown_logging)  # write what is still queued before the process ends
        _atexit_registered = True

    masking = MaskingFilter()
    console = _ConsoleHandler()
    console.setLevel(console_level)
    console.setFormatter(_MaskingFormatter("%(levelname)s %(name)s: %(message)s"))
    console.addFilter(masking)
    handlers: list[logging.Handler] = [console]

    path: Path | None = None
    if data_dir is not None:
        try:
            path = log_dir(data_dir) / LOG_FILE
            file_handler = _LazyFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
            )
            file_handler.setLevel(file_level)
            file_handler.setFormatter(_MaskingFormatter(FORMAT))
            file_handler.addFilter(masking)
            queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
            background = _BackgroundHandler(queue)
            background.setLevel(file_level)
            listener = logging.handlers.QueueListener(queue, file_handler, respect_handler_level=True)
            listener.start()
            _listeners.append(listener)
            _file_handlers.append(file_handler)
            handlers.append(background)
        except OSError as exc:
            path = None
            print(f"Aviso: não foi possível gravar o log em {data_dir}: {exc}", file=sys.stderr)

    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
        _installed.append(handler)
    root.setLevel(min(h.level for h in handlers))
    # We log every API exchange ourselves (masked); the HTTP libraries' own lines add nothing.
    for noisy in ("httpx", "httpcore", "hpack", "urllib3", "keyring"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def shutdown_logging() -> None:
    """Write what is queued and close the handlers installed by :func:`setup_logging`."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    for listener in _listeners:
        listener.stop()  # drains the queue
    _listeners.clear()
    for handler in _file_handlers:
        handler.close()
    _file_handlers.clear()


def flush_logs() -> None:
    """Wait until every queued record is in the file (support bundle, tests)."""
    for listener in _listeners:
        listener.stop()
        listener.start()
    for handler in [*_installed, *_file_handlers]:
        handler.flush()

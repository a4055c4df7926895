"""Named kill points for the crash harness (tests/integration/crash_harness.py).

``POS_CRASH_AT=after_commit_before_send`` makes the process die with ``os._exit(137)`` (no
cleanup, no flush, exactly like ``kill -9``) the first time the services reach that point.
``POS_CRASH_AT=replay_after_post:3`` dies at the third time. Several names may be given,
separated by commas. Without the variable every call is a dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
import threading

ENV = "POS_CRASH_AT"
EXIT_CODE = 137  # what a shell reports for a process killed by SIGKILL

# Every kill point the services check, in the order a sale and its replay meet them.
POINTS: dict[str, str] = {
    "before_commit": "checkout: sale and pending NFC-e written, transaction not committed",
    "after_commit_before_send": "checkout committed, online request not started",
    "after_enviando_before_send": "document marked 'enviando', request not sent",
    "after_answer_before_store": "the API answered the online emission, answer not stored",
    "contingency_before_commit": "contingency number taken, transaction not committed",
    "contingency_after_commit": "contingency note committed, receipt not rendered",
    "replay_before_post": "contingency note marked 'transmitindo', offline POST not sent",
    "replay_after_post": "offline POST answered, answer not stored",
    "reconcile_after_cancel": "in-doubt attempt cancelled at the API, not recorded",
}

# Kill points of the manager's actions written ahead (``pending_actions``): the crash campaign
# (tests/integration/crash_campaign.py) covers them.
MANAGER_POINTS: dict[str, str] = {
    "cancel_before_send": "cancel intent written ahead, DELETE not sent",
    "cancel_after_answer_before_store": "the API answered the DELETE, answer not stored",
    "void_before_send": "inutilização intent written ahead, POST not sent",
    "void_after_answer_before_store": "the API answered the inutilização, answer not stored",
    "rps_before_post": "RPS batch marked 'enviando', POST not sent",
    "rps_after_post": "the API answered the RPS batch, answer not stored",
}

# Kill points of the ECONF (Conciliação Financeira) requests, written ahead (core/services/econf.py).
ECONF_POINTS: dict[str, str] = {
    "econf_before_send": "ECONF intent written ahead ('enviando'), POST not sent",
    "econf_after_answer_before_store": "the API answered the ECONF POST, answer not stored",
    "econf_cancel_before_send": "ECONF cancel written ahead ('cancelando'), DELETE not sent",
    "econf_cancel_after_answer_before_store": "the API answered the ECONF DELETE, answer not stored",
}

_lock = threading.Lock()
_hits: dict[str, int] = {}


def _targets() -> dict[str, int]:
    spec = os.environ.get(ENV, "")
    out: dict[str, int] = {}
    for part in spec.split(","):
        name, _, count = part.strip().partition(":")
        if name:
            out[name] = int(count) if count.isdigit() and int(count) > 0 else 1
    return out


def crash_point(name: str) -> None:
    """Die here (``os._exit(137)``) when ``POS_CRASH_AT`` names this point."""
    if ENV not in os.environ:
        return
    targets = _targets()
    if name not in targets:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        hit = _hits[name]
    if hit >= targets[name]:
        os._exit(EXIT_CODE)

"""Short version of the crash campaign (crash_campaign.py): random kill -9 during sell, sync, cancel,
inutilização and e-mail; after each kill one clean sync and every invariant against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from crash_campaign import CrashCampaign


@pytest.mark.slow
def test_crash_campaign_short(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    campaign = CrashCampaign(tmp_path, seed=2026)
    try:
        result = campaign.run(kills=10)
    finally:
        campaign.close()
    with capsys.disabled():
        print(
            f"\ncampanha curta: {result.rounds} rodadas, {result.kills} mortes, {len(result.violations)} violações, "
            f"{dict(result.kills_by_command)}"
        )
    assert result.kills >= 10
    assert result.violations == []

"""The swe-bench-leaderboards kind on every captured file, with exact values."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sources import swe_bench
from sources.base import Observation, PayloadError, Snapshot


def parse(folder: Path, name: str) -> Snapshot:
    return swe_bench.parse((folder / name).read_bytes())


def row(snapshot: Snapshot, key: str) -> Observation:
    [found] = [o for o in snapshot.observations if o.key == key]
    return found


def counts(snapshot: Snapshot) -> dict[str, int]:
    return dict(Counter(o.benchmark for o in snapshot.observations))


def best(snapshot: Snapshot, benchmark: str, before: str = "9999") -> Observation:
    rows = [o for o in snapshot.observations
            if o.benchmark == benchmark and (o.result_date or "") < before]
    return max(rows, key=lambda o: o.value)


def test_old_schema_2025_05_07(swe_bench: Path) -> None:
    snapshot = parse(swe_bench, "leaderboards.2025-05-07.json")
    assert counts(snapshot) == {"swe-bench-full": 20, "swe-bench-verified": 69,
                                "swe-bench-lite": 66, "swe-bench-multimodal": 13}
    augment = row(snapshot, "Verified/20250316_augment_agent_v0")
    assert augment.value == 65.4 and augment.result_date == "2025-03-16"
    # old `verified` means checked; old `oss` means open-source; no tags, so pass@1 unknown
    assert dict(augment.attributes) == {"checked": False, "open-source": False}
    assert snapshot.rejections == []


def test_new_schema_2025_07_31(swe_bench: Path) -> None:
    snapshot = parse(swe_bench, "leaderboards.2025-07-31.json")
    assert counts(snapshot) == {"swe-bench-full": 22, "swe-bench-verified": 112,
                                "swe-bench-lite": 80, "swe-bench-multimodal": 21,
                                "swe-bench-bash-only": 12}
    trae = best(snapshot, "swe-bench-verified", before="2025-08-01")
    assert (trae.key, trae.subject, trae.value, trae.result_date) == (
        "Verified/20250612_trae", "TRAE", 75.2, "2025-06-12")
    assert dict(trae.attributes) == {"checked": False, "pass@1": False, "open-weights": False,
                                     "open-source": True, "org": "TRAE"}
    # The re-dated mini-SWE-agent rows carry the date the source gave at the time.
    mini = row(snapshot, "Verified/20250726_mini-v1.0.0_claude-sonnet-4-20250514")
    assert mini.result_date == "2025-05-21"
    bash_best = best(snapshot, "swe-bench-bash-only")
    assert bash_best.value == 64.93 and "Claude 4 Sonnet" in bash_best.subject


def test_bad_unit_row_is_rejected_and_the_rest_kept(swe_bench: Path) -> None:
    snapshot = parse(swe_bench, "leaderboards.2025-09-10-bad-unit.json")
    [rejected] = snapshot.rejections
    assert rejected.key == "Verified/20250822_mini-v1.9.1_GLM-4.5"
    assert rejected.subject == "mini-SWE-agent + GLM-4.5"
    assert rejected.reason == "value 271 is outside the range of percent (0 to 100)"
    assert counts(snapshot)["swe-bench-verified"] == 132
    assert best(snapshot, "swe-bench-verified").value == 76.8
    fixed = parse(swe_bench, "leaderboards.2025-09-10-fixed.json")
    assert fixed.rejections == []
    assert row(fixed, "Verified/20250822_mini-v1.9.1_GLM-4.5").value == 54.2


def test_2025_11_18_and_the_4mb_file(swe_bench: Path) -> None:
    november = parse(swe_bench, "leaderboards.2025-11-18.json")
    assert counts(november)["swe-bench-verified"] == 150
    december = parse(swe_bench, "leaderboards.2025-12-10.json")
    assert counts(december) == {"swe-bench-bash-only": 31, "swe-bench-full": 23,
                                "swe-bench-verified": 162, "swe-bench-lite": 84,
                                "swe-bench-multimodal": 22}
    top = best(december, "swe-bench-verified")
    assert (top.key, top.value, top.result_date) == (
        "Verified/20250928_trae_doubao_seed_code", 78.8, "2025-09-28")


def test_site_page_with_embedded_json(swe_bench: Path) -> None:
    snapshot = parse(swe_bench, "index.2026-02-26.html")
    assert counts(snapshot) == {"swe-bench-bash-only": 46, "swe-bench-multilingual": 13,
                                "swe-bench-full": 24, "swe-bench-verified": 178,
                                "swe-bench-lite": 84, "swe-bench-multimodal": 22}
    tops = sorted((o.value, o.key) for o in snapshot.observations
                  if o.benchmark == "swe-bench-verified")[-2:]
    assert [value for value, _ in tops] == [79.2, 79.2]
    live = row(snapshot, "Verified/20251215_livesweagent_claude-opus-4-5")
    assert live.attributes["pass@1"] is True and live.attributes["org"] == "UIUC"
    # The string "false (See README...)" is not the boolean true; null is unknown.
    assert row(snapshot, "Verified/20251110_frogboss-32b").attributes["checked"] is False
    assert "checked" not in row(snapshot, "Verified/20260217_mini-v2.0.0_glm-5-high").attributes
    # `System: Attempts - 2` (without +) is not pass@1 either.
    assert row(snapshot, "Verified/20250902_atlassian-rovo-dev").attributes["pass@1"] is False
    # Bash-only runs are cross-listed in Verified under the same folder: distinct keys.
    bash = {o.key.split("/", 1)[1] for o in snapshot.observations
            if o.benchmark == "swe-bench-bash-only"}
    verified = {o.key.split("/", 1)[1] for o in snapshot.observations
                if o.benchmark == "swe-bench-verified"}
    assert len(bash & verified) == 45


def test_known_answer_best_by_mid_2025_from_the_latest_page(swe_bench: Path) -> None:
    snapshot = parse(swe_bench, "index.2026-02-26.html")
    assert best(snapshot, "swe-bench-verified", before="2025-08-01").value == 75.2


@pytest.mark.parametrize("body, reason", [
    (b"", "not JSON"),
    (b"{not json", "not JSON"),
    (b'{"boards": []}', "no 'leaderboards' list"),
    (b'{"leaderboards": []}', "no leaderboard rows"),
    (b'{"leaderboards": [{"name": "Verified", "results": []}]}', "no leaderboard rows"),
    (b"<html><body>maintenance</body></html>", "without a leaderboard-data"),
    (b'\xff\xfe{"leaderboards"', "not JSON"),
])
def test_unusable_payloads(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        swe_bench.parse(body)


def test_odd_rows_are_rejected_or_skipped_not_fatal() -> None:
    body = (b'{"leaderboards": [{"name": "Verified", "results": ['
            b'{"folder": "a", "name": "A", "resolved": "n/a", "date": "2025-01-01"},'
            b'{"folder": "b", "name": "B", "resolved": -1, "date": "2025-01-01"},'
            b'{"name": "no folder", "resolved": 50},'
            b'{"folder": "c", "name": "C", "resolved": 50, "date": "someday"}]},'
            b'{"name": "verified-mini", "results": [{"folder": "d", "resolved": 1}]}]}')
    snapshot = swe_bench.parse(body)
    assert [(r.key, r.reason) for r in snapshot.rejections] == [
        ("Verified/a", "'resolved' is not a number: 'n/a'"),
        ("Verified/b", "value -1 is outside the range of percent (0 to 100)"),
    ]
    [kept] = snapshot.observations
    assert kept.key == "Verified/c" and kept.result_date is None
    assert snapshot.notes == ["Verified: a row without a folder was skipped"]

"""A small data branch built from the sample digests, shaped like the real upstream one.

June 2026 (the dates are invented; the papers are real):
- 06-01: all three files: the raw JSONL (every paper of the day plus 20 papers the AI step
  dropped, so the raw file holds more papers than the others), the markdown, the AI JSONL;
- 06-02: only the raw JSONL (the AI step failed that day);
- 06-03: a byte-for-byte copy of 06-02's raw JSONL (upstream republishes a day unchanged);
- 06-04: only the markdown (a fork that writes markdown only);
- 06-05: only an AI JSONL of the older kind (`task` instead of `tldr`);
- 06-06, 06-07: a weekend, nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DIGESTS

FIRST_DAY = "2026-06-01"
LAST_DAY = "2026-06-07"


def _raw(lines: list[str]) -> bytes:
    """What the crawler writes before the AI step: the same records without `AI`."""
    out = []
    for line in lines:
        record = json.loads(line)
        record.pop("AI", None)
        out.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode()


def mirror_files() -> dict[str, bytes]:
    """File name (as under data/) -> bytes."""
    december = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_text(encoding="utf-8").splitlines()
    march = (DIGESTS / "2025-03-19_AI_enhanced_Chinese.jsonl").read_text(encoding="utf-8").splitlines()
    raw_only = _raw(march[:60])
    return {
        "2026-06-01.jsonl": _raw(december + march[100:120]),
        "2026-06-01.md": (DIGESTS / "2025-12-31.md").read_bytes(),
        "2026-06-01_AI_enhanced_Chinese.jsonl": (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_bytes(),
        "2026-06-02.jsonl": raw_only,
        "2026-06-03.jsonl": raw_only,
        "2026-06-04.md": (DIGESTS / "004_8ce2d82a3946f536.txt").read_bytes(),
        "2026-06-05_AI_enhanced_Chinese.jsonl": (DIGESTS / "2025-03-19_AI_enhanced_Chinese.jsonl").read_bytes(),
    }


def write_mirror(folder: Path) -> Path:
    """Write the files as a clone of the data branch has them (`folder/data/...`), plus files that are not digests."""
    data = folder / "data"
    data.mkdir(parents=True)
    for name, body in mirror_files().items():
        (data / name).write_bytes(body)
    (folder / "assets").mkdir()
    (folder / "assets" / "file-list.txt").write_text("\n".join(mirror_files()) + "\n")
    (folder / "README.md").write_text("# data branch\n")
    return folder

"""What the benchmarks share: the query list, percentiles, and `project / floor / ratio` lines.

Every bench measures the project beside its floor in the same run (plain sqlite3 on the same
schema and rows, a bare client on the same requests): the machine is shared and noisy, so the
ratio is the figure that carries over.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage.sqlite.library import disable_memory_statistics  # noqa: E402

# As the bot process does at start, before any connection: both project and floor get it.
disable_memory_statistics()

QUERIES = [
    "diffusion", "diffusion model", '"large language model"', "reinforcement learning", "GPT-4o",
    "self-supervised", "transformer attention", "robot manipulation", "graph neural network",
    "benchmark", "learning", "retrieval augmented generation", "video generation", "C++", "e.g.",
    "扩散模型", "强化学习", "幻觉", "大语言模型", "多模态", "机器人", "视频生成", "检索增强",
]
# Searches within every limit of the query budget that make the index work hardest.
WORST_QUERIES = [
    "con* pro*", "dat* mod* learning", "model OR learning OR data OR method OR results OR based",
    "the of and in to a is for we that", "learn* model*", '"we propose"', "的", "learning model data method results",
    "sys* net* model", "propose* method*",
]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    """`p50 / p99` of timings in seconds, as milliseconds."""
    return f"{statistics.median(values) * 1000:7.1f} / {percentile(values, 0.99) * 1000:7.1f} ms"


def compare(label: str, project: float, floor: float, unit: str) -> str:
    """One `project / floor / ratio` line; ratio = project / floor (for times lower is better, for rates higher)."""
    ratio = project / floor if floor else float("nan")
    return f"{label:<40} project {project:>10,.1f} {unit:<9} floor {floor:>10,.1f} {unit:<9} ratio {ratio:5.2f}"

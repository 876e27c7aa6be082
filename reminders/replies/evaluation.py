"""How well the reader does on a labelled corpus (tests/data/replies/*.csv): per-kind precision
and recall, scores read right, flags raised, and every missed emergency by name."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from reminders.replies import KINDS, Reading, flag_reasons, read_reply
from reminders.vocabulary import ReplyKind


@dataclass(frozen=True)
class LabelledReply:
    text: str
    kind: str
    score: int | None
    flag: bool


@dataclass
class Evaluation:
    total: int = 0
    right: int = 0
    scores_right: int = 0
    scores_total: int = 0
    flags_raised: int = 0
    flags_expected: int = 0
    expected: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    missed_emergencies: list[str] = field(default_factory=list)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, read as

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def precision(self, kind: str) -> float | None:
        return self.correct[kind] / self.predicted[kind] if self.predicted[kind] else None

    def recall(self, kind: str) -> float | None:
        return self.correct[kind] / self.expected[kind] if self.expected[kind] else None


def load(path: Path) -> list[LabelledReply]:
    """Rows of `text,kind,score,flag[,note]`; raises ValueError naming a bad row."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            kind = (row.get("kind") or "").strip()
            if kind not in KINDS or row.get("text") is None:
                raise ValueError(f"{path}:{number}: kind must be one of {', '.join(KINDS)}")
            score = (row.get("score") or "").strip()
            rows.append(
                LabelledReply(
                    row["text"], kind, int(score) if score else None, row.get("flag") == "1"
                )
            )
    return rows


def evaluate(rows: list[LabelledReply]) -> Evaluation:
    result = Evaluation()
    for row in rows:
        reading = read_reply(row.text)
        result.total += 1
        result.expected[row.kind] += 1
        result.predicted[reading.kind] += 1
        right = reading.kind == row.kind and (
            row.kind != ReplyKind.SCORE or reading.score == row.score
        )
        if row.kind == ReplyKind.SCORE:
            result.scores_total += 1
            result.scores_right += reading.kind == ReplyKind.SCORE and reading.score == row.score
        if right:
            result.right += 1
            result.correct[row.kind] += 1
        else:
            shown = reading.kind + (f" {reading.score}" if reading.score is not None else "")
            result.wrong.append((row.text, row.kind, shown))
        if row.kind == ReplyKind.EMERGENCY and reading.kind != ReplyKind.EMERGENCY:
            result.missed_emergencies.append(row.text)
        if row.flag:
            result.flags_expected += 1
            result.flags_raised += bool(
                flag_reasons(Reading(reading.kind, reading.score), None, row.text)
            )
    return result

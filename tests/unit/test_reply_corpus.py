"""The reader against a corpus of replies written from the clinical brief, not from the code.

tests/data/replies/dev.csv was used while building the reader; holdout.csv was kept aside and
measured once (figures in its README). Both must hold: no missed emergency, 95 % of kinds right.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reminders.cli import main
from reminders.replies.evaluation import evaluate, load

CORPUS = Path(__file__).resolve().parents[1] / "data" / "replies"


def evaluate_command(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int | str | None, str, str]:
    """`reminders replies evaluate PATH` in this process, as the console script runs it
    (main() turns errors into an exit code): (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["reminders", "replies", "evaluate", str(path)])
    with pytest.raises(SystemExit) as ended:
        main()
    out, err = capsys.readouterr()
    return ended.value.code, out, err


@pytest.mark.parametrize("name", ["dev.csv", "holdout.csv"])
def test_it_misses_no_emergency_in_the_corpus(name: str) -> None:
    # Given replies labelled by someone who had not read the reader
    rows = load(CORPUS / name)
    assert sum(row.kind == "emergency" for row in rows) >= len(rows) // 5

    # When every reply is read
    result = evaluate(rows)

    # Then every emergency is read as one
    assert result.missed_emergencies == []
    assert result.flags_raised >= 0.95 * result.flags_expected


def test_it_reads_95_percent_of_the_whole_corpus_right() -> None:
    result = evaluate(load(CORPUS / "dev.csv") + load(CORPUS / "holdout.csv"))
    assert result.accuracy >= 0.95, result.wrong


def test_it_holds_a_corpus_of_at_least_600_replies_a_third_of_them_french() -> None:
    rows = load(CORPUS / "dev.csv") + load(CORPUS / "holdout.csv")
    french = [
        r
        for r in rows
        if any(c in r.text.casefold() for c in "éèàçêâ") or " je " in f" {r.text.casefold()} "
    ]
    assert len(rows) >= 600
    assert len(french) >= len(rows) // 5  # a rough lower bound: many French replies lack accents


def test_it_prints_precision_recall_and_missed_emergencies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a small labelled file with one emergency the reader would miss if it read words only
    labelled = tmp_path / "replies.csv"
    labelled.write_text(
        "text,kind,score,flag,note\n"
        "j'étouffe,emergency,,1,\n"
        "4/10,score,4,0,\n"
        "STOP,opt_out,,0,\n"
        "what a lovely day,emergency,,1,mislabelled on purpose\n",
        encoding="utf-8",
    )

    # When the evaluate command runs on it
    code, out, err = evaluate_command(labelled, monkeypatch, capsys)

    # Then it prints a line per kind and names the missed emergency
    assert code == 0, err
    assert "4 replies: 75.0% of kinds right" in out
    assert "emergency" in out and "opt_out" in out
    assert "MISSED\twhat a lovely day" in out.splitlines()


def test_it_refuses_a_file_with_an_unknown_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "bad.csv"
    labelled.write_text("text,kind,score,flag\nhello,greeting,,0\n", encoding="utf-8")
    code, _, err = evaluate_command(labelled, monkeypatch, capsys)
    assert code == 2
    assert "kind must be one of" in err
    assert "Traceback" not in err

"""The classifier's sentence view: NLTK's untrained Punkt splitter with the known abbreviations, no data."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aipsy_affect.defense.classifier import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She left. He stayed! Did they? Yes.", ["She left.", "He stayed!", "Did they?", "Yes."]),
        (
            "Dr. Okafor met Mr. J. Smith at 9 a.m. on Monday. Then they left.",
            ["Dr. Okafor met Mr. J. Smith at 9 a.m. on Monday.", "Then they left."],
        ),
        ("\u201cStop.\u201d She did. \u201cWhy?\u201d", ["\u201cStop.\u201d", "She did.", "\u201cWhy?\u201d"]),
        ("no final punctuation here", ["no final punctuation here"]),
        ("First paragraph without a stop\n\nSecond one.", ["First paragraph without a stop", "Second one."]),
        ("It cost 4.50 dollars. Fine.", ["It cost 4.50 dollars.", "Fine."]),
        ("   ", [""]),
        # The hand-written splitter took the possessive "s." for an initial and missed these boundaries.
        (
            "The features were her mother's. Naledi asked the man.",
            ["The features were her mother's.", "Naledi asked the man."],
        ),
        ("He began at the 500s. She slotted a book in.", ["He began at the 500s.", "She slotted a book in."]),
        ("He waited\u2026 Then she came.", ["He waited\u2026", "Then she came."]),
        ("The U.K. office closed. Staff left.", ["The U.K. office closed.", "Staff left."]),
        ("They met at St. Mary's. Then home.", ["They met at St. Mary's.", "Then home."]),
        ("One\n   line  broken\tup. Two.", ["One line broken up.", "Two."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_punkt_needs_no_downloaded_model() -> None:
    code = (
        "import nltk.data\n"
        "def refuse(*a, **k): raise AssertionError('NLTK data looked up')\n"
        "nltk.data.find = nltk.data.load = refuse\n"
        "from aipsy_affect.defense.classifier import split_sentences\n"
        "print(len(split_sentences('Mr. Li left. Dr. Ng stayed.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["2"]

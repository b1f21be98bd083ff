"""The packaged battery: the brief's design table, crossing, pairing, length matching, keyword-free text, balance."""

from __future__ import annotations

import re
import statistics
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from scipy.stats import wilcoxon

import aipsy_affect
from aipsy_affect import DOMAINS, EMOTIONS, MAIN_SPLITS, load_battery, load_split
from aipsy_affect.battery.schema import DESIGN_COUNTS
from aipsy_affect.keywords.screen import find_keywords

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def battery():
    return load_battery()


@pytest.mark.parametrize(("split", "n"), sorted(DESIGN_COUNTS.items()))
def test_split_sizes(split: str, n: int) -> None:
    assert len(load_split(split)) == n


def test_fully_crossed(battery) -> None:
    cells = Counter((i.emotion, i.domain) for i in battery.split("clinical"))
    assert cells == {(e, d): 4 for e in EMOTIONS for d in DOMAINS}
    assert Counter((i.emotion, i.domain) for i in battery.split("moderate")) == {
        (e, d): 1 for e in EMOTIONS for d in DOMAINS
    }
    assert Counter(i.domain for i in battery.split("complex_neutral")) == {d: 8 for d in DOMAINS}


def test_ids_are_readable_and_stable(battery) -> None:
    slug = {d: s for d, (s, _) in DOMAINS.items()}
    for i in battery.items:
        expected = {
            "clinical": rf"clin-{i.emotion}-{slug[i.domain]}-[1-4]",
            "neutral": rf"neut-[a-z]+-{slug[i.domain]}-[1-4]",
            "moderate": rf"mod-{i.emotion}-{slug[i.domain]}",
            "complex_neutral": rf"cneu-{slug[i.domain]}-[1-8]",
            "keyword_twins": rf"twin-{i.emotion}-{slug[i.domain]}-[1-4]",
        }[i.split]
        assert re.fullmatch(expected, i.id), i.id


def test_pairs_within_ten_percent_and_no_length_bias(battery) -> None:
    diffs = []
    for clin, neut in battery.pairs():
        assert abs(neut.word_count - clin.word_count) <= 0.10 * clin.word_count, clin.id
        assert neut.matched_control_id == clin.id
        diffs.append(neut.word_count - clin.word_count)
    assert abs(statistics.mean(diffs)) <= 2.0
    assert wilcoxon(diffs).pvalue > 0.05


@pytest.mark.parametrize("split", MAIN_SPLITS)
def test_vignette_length_range(split: str) -> None:
    for item in load_split(split):
        assert 80 <= item.word_count <= 130, item.id


@pytest.mark.parametrize("split", MAIN_SPLITS)
def test_the_480_are_keyword_free(split: str) -> None:
    leaks = {i.id: [h.match for h in find_keywords(i.text) if h.kind == "forbidden"] for i in load_split(split)}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_expressive_words_are_rare(battery) -> None:
    items = [i for i in battery.items if i.split in MAIN_SPLITS]
    n = sum(any(h.kind == "expressive" for h in find_keywords(i.text)) for i in items)
    assert n <= 0.05 * len(items)


def test_every_twin_names_its_own_emotion(battery) -> None:
    index = battery.by_id()
    for twin in battery.split("keyword_twins"):
        vignette = index[twin.peak_id]
        tail = twin.text[len(vignette.text) :]
        assert twin.text.startswith(vignette.text)
        sentences = re.findall(r"[.!?](\s|$)", re.sub(r"\b(Mr|Mrs|Ms|Dr)\.", r"\1", tail))
        assert len(sentences) == 1, twin.id
        own = [h for h in find_keywords(tail) if h.kind == "forbidden" and h.emotion == twin.emotion]
        assert own, twin.id


def test_twin_keywords_vary_within_each_emotion(battery) -> None:
    for e in EMOTIONS:
        terms = {
            h.term
            for t in battery.split("keyword_twins")
            if t.emotion == e
            for h in find_keywords(t.text)
            if h.emotion == e
        }
        # trust has the smallest keyword family (trust, trusted, faith, confidence); the others have more.
        assert len(terms) >= 4, (e, terms)


def test_moderate_links_form_triplets(battery) -> None:
    index = battery.by_id()
    for mod in battery.split("moderate"):
        peak = index[mod.peak_id]
        assert (peak.emotion, peak.domain, peak.protagonist) == (mod.emotion, mod.domain, mod.protagonist)
        assert mod.matched_control_id == peak.matched_control_id


def test_gender_balanced_within_each_emotion(battery) -> None:
    for e in EMOTIONS:
        genders = Counter(i.protagonist_gender for i in battery.split("clinical") if i.emotion == e)
        assert genders == {"female": 12, "male": 12}, e
    assert Counter(i.protagonist_gender for i in battery.split("complex_neutral")) == {"female": 24, "male": 24}


def test_names_do_not_signal_emotion(battery) -> None:
    clinical = battery.split("clinical") + battery.split("complex_neutral")
    names = Counter(i.protagonist for i in clinical)
    assert max(names.values()) == 1, "a protagonist name recurs across items"
    assert not [n for n in names if find_keywords(n)]


def test_domain_does_not_predict_emotion(battery) -> None:
    # Fully crossed: every domain carries every emotion equally often, so the mutual information is zero.
    counts = Counter((i.domain, i.emotion) for i in battery.split("clinical"))
    assert len(set(counts.values())) == 1


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_rich_vocabulary_and_varied_openings(battery) -> None:
    clinical = battery.split("clinical")
    vocab = {w for i in clinical for w in _words(i.text)}
    assert len(vocab) >= 3000
    openings = Counter(" ".join(i.text.split()[:2]) for i in clinical)
    assert len(openings) >= 150
    assert openings.most_common(1)[0][1] <= 10


def test_no_long_word_sequences_shared_between_items(battery) -> None:
    # Matched pairs share a skeleton by design; across different vignettes no 10-word sequence repeats.
    def family(i):
        if i.split == "neutral":
            return i.matched_control_id
        return i.peak_id or i.id

    seen: dict[tuple[str, ...], str] = {}
    shared = []
    for i in battery.items:
        if i.split not in MAIN_SPLITS:
            continue
        w = _words(i.text)
        for k in range(len(w) - 9):
            gram = tuple(w[k : k + 10])
            owner = seen.setdefault(gram, family(i))
            if owner != family(i):
                shared.append((owner, i.id, " ".join(gram)))
    assert shared == []


def test_third_person_past_tense(battery) -> None:
    for i in battery.items:
        if i.split in MAIN_SPLITS:
            words = _words(i.text)
            first_person = sum(w in {"i", "me", "my", "mine"} for w in words)
            assert first_person <= 2, i.id


def test_wheel_ships_the_data(installed_wheel, tmp_path: Path) -> None:
    from installed import run_installed

    wheel, site = installed_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    for split in DESIGN_COUNTS:
        assert f"aipsy_affect/data/{split}.jsonl" in names
    assert "aipsy_affect/resources/emotion_keywords.json" in names
    code = (
        "import aipsy_affect, sys; b = aipsy_affect.load_battery(); "
        "assert 'site' in aipsy_affect.__file__, aipsy_affect.__file__; print(len(b.items))"
    )
    out = run_installed(site, code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "672"


def test_public_api_version() -> None:
    assert aipsy_affect.__version__.count(".") == 2

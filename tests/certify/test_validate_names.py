"""A declared protagonist name is not a misspelling of a forbidden word; an undeclared look-alike still is."""

from __future__ import annotations

from aipsy_affect.battery.schema import ItemDraft
from aipsy_affect.certify.validate import validate_item


def test_protagonist_name_is_not_a_misspelling() -> None:
    text = "Anders carried the crate to the van and drove it to the depot before noon."
    with_name = validate_item(ItemDraft(id="a", text=text, protagonist="Anders"), strict=True)
    assert with_name.passed, with_name.checks
    without = validate_item(ItemDraft(id="b", text=text), strict=True)
    assert not without.passed and [m.match for m in without.near_misses] == ["Anders"]
    other = validate_item(
        ItemDraft(id="c", text=text.replace("Anders carried", "Anders and Ines carried"), protagonist="Ines"),
        strict=True,
    )
    assert not other.passed

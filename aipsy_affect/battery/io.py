"""Readers for item files (JSONL, JSON array, CSV) and atomic writers.

Every reader error names the file, the line and the field, e.g.
``items.jsonl:17: emotion: 'furry' is not a Plutchik emotion``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aipsy_affect.battery.schema import ItemDraft
from aipsy_affect.errors import InputError, InputErrors

M = TypeVar("M", bound=BaseModel)
MAX_FILE_BYTES = 50 * 1024 * 1024






def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, None, None, "is a directory, not a file") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(path, None, None, f"file is {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, line, None, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                                           "save the file as UTF-8") from None
    if not text.strip():
        raise InputError(path, None, None, "file is empty")
    return text


def _records_jsonl(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield lineno, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(path, lineno, None, f"malformed JSON ({exc.msg} at column {exc.colno})") from None


def _records_json(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    # Decode element by element so each record keeps the line it starts on.
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if not text.startswith("[", pos):
        raise InputError(path, text.count("\n", 0, pos) + 1, None, "a .json item file must hold a JSON array of objects")
    pos += 1
    expect_value = True
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise InputError(path, text.count("\n") + 1, None, "malformed JSON (the array is not closed)")
        if text[pos] == "]":
            return
        if not expect_value:
            if text[pos] != ",":
                raise InputError(path, text.count("\n", 0, pos) + 1, None, "malformed JSON (expected ',' or ']')")
            pos += 1
            expect_value = True
            continue
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(path, exc.lineno, None, f"malformed JSON ({exc.msg} at column {exc.colno})") from None
        expect_value = False
        yield line, value


def _records_csv(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise InputError(path, reader.line_num or 1, None, f"malformed CSV header ({exc})") from None
    if fieldnames is None:
        raise InputError(path, 1, None, "CSV file has no header row")
    blank = [i for i, name in enumerate(fieldnames, start=1) if not name or not name.strip()]
    if blank:
        raise InputError(path, 1, None, f"CSV header has an empty column name (column {blank[0]})")
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(path, reader.line_num, None, f"malformed CSV ({exc})") from None
        if None in row:
            raise InputError(path, start, None, f"row has {len(fieldnames) + len(row[None])} cells; "
                                                f"the header has {len(fieldnames)}")
        cleaned = {k.strip(): (v if v is not None and v.strip() != "" else None) for k, v in row.items()}
        if any(v is not None for v in cleaned.values()):
            yield start, {k: v for k, v in cleaned.items() if v is not None}
        start = reader.line_num + 1


_FORMATS = {".jsonl": _records_jsonl, ".ndjson": _records_jsonl, ".json": _records_json, ".csv": _records_csv}


def iter_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, raw record)`` from a JSONL, JSON-array or CSV file (format chosen by extension)."""
    path = Path(path)
    reader = _FORMATS.get(path.suffix.lower())
    if reader is None:
        raise InputError(path, None, None, f"unknown file type {path.suffix!r}; use .jsonl, .json or .csv")
    text = _read_text(path)
    yield from reader(path, text)


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if not str(p).startswith("function-")]
    return ".".join(parts) or None


def located_errors(path: str | os.PathLike[str], line: int, exc: ValidationError) -> list[InputError]:
    """Turn a pydantic error into one located error per problem."""
    out = []
    for err in exc.errors():
        field = _field_of(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "literal_error" and "input" in err:
            msg = f"{err['input']!r} is not allowed ({msg})"
        out.append(InputError(path, line, field, msg))
    return out


def validate_records(
    path: str | os.PathLike[str],
    records: Iterable[tuple[int, Any]],
    model: type[M],
    check: Callable[[int, M], list[InputError]] | None = None,
) -> list[M]:
    """Validate ``(line, raw record)`` pairs as ``model``; raise ``InputErrors`` listing every bad record.

    Ids must be unique; ``check`` adds source-specific problems for a record that validated.
    """
    errors: list[InputError] = []
    items: list[M] = []
    seen: dict[str, int] = {}
    for line, raw in records:
        if not isinstance(raw, dict):
            errors.append(InputError(path, line, None, f"expected a JSON object, got {type(raw).__name__}"))
            continue
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            errors.extend(located_errors(path, line, exc))
            continue
        if check is not None:
            errors.extend(check(line, item))
        item_id = getattr(item, "id", None)
        if item_id is not None:
            if item_id in seen:
                errors.append(InputError(path, line, "id", f"duplicate id {item_id!r} (first at line {seen[item_id]})"))
                continue
            seen[item_id] = line
        items.append(item)
    if errors:
        raise InputErrors(errors)
    if not items:
        raise InputErrors([InputError(path, None, None, "file holds no items")])
    return items


def read_models(path: str | os.PathLike[str], model: type[M]) -> list[M]:
    """Read every record of ``path`` as ``model``; raise ``InputErrors`` listing every bad record."""
    return validate_records(path, iter_records(path), model)


def read_items(path: str | os.PathLike[str]) -> list[ItemDraft]:
    """Read stimulus items written by an author (minimum fields ``id`` and ``text``)."""
    return read_models(path, ItemDraft)


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write a file so that readers see the old content or the new, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); a published file gets the usual umask-derived mode.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dumps_jsonl(records: list[dict[str, Any]]) -> str:
    """Serialise records as deterministic JSON Lines."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records)

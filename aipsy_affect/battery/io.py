"""Readers for item files (JSONL, JSON array, CSV) and atomic writers.

Every reader error names the file, the line and the field, e.g.
``items.jsonl:17: emotion: 'furry' is not a Plutchik emotion``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aipsy_affect.battery.schema import ItemDraft
from aipsy_affect.errors import InputError, InputErrors

M = TypeVar("M", bound=BaseModel)
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Item files are written by hand: a few hundred kilobytes. The cap keeps a stray dump from taking minutes.
MAX_ITEM_FILE_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    # Check the kind of file on the open descriptor (no race with a swapped path), and never block: a FIFO
    # opened without O_NONBLOCK waits for a writer forever.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(path, None, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, None, None, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(path, None, None, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputError(path, None, None, f"cannot be opened ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(path, None, None, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a FIFO (named pipe)"
                if stat.S_ISFIFO(info.st_mode)
                else "a device"
                if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a socket"
                if stat.S_ISSOCK(info.st_mode)
                else "not a regular file"
            )
            raise InputError(path, None, None, f"is {kind}; give a regular file")
        if info.st_size > max_bytes:
            raise InputError(path, None, None, f"file is {info.st_size} bytes; the limit is {max_bytes}")
        chunks = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            except OSError as exc:
                raise InputError(path, None, None, f"cannot be read ({exc.strerror or exc})") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise InputError(path, None, None, f"file is over the limit of {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    data = _read_bytes(path, max_bytes)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            path, 1, None, "not UTF-8: the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8"
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            path,
            data.count(b"\n", 0, nul) + 1,
            None,
            f"not UTF-8 text: NUL byte at offset {nul} (UTF-16 or a binary file?); save it as UTF-8",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            path,
            line,
            None,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
        ) from None
    if not text.strip():
        raise InputError(path, None, None, "file is empty")
    return text


def _check_depth(path: Path, text: str, limit: int) -> None:
    # The json module recurses once per level; a deep file must be refused before it is parsed.
    depth = 0
    for m in _NESTING.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                raise InputError(
                    path,
                    _line_at(text, m.start()),
                    None,
                    f"malformed JSON (nested more than {MAX_JSON_DEPTH} levels deep)",
                )
        elif c in "]}":
            depth = max(0, depth - 1)


def _decode_value(path: Path, text: str, pos: int, lineno: int | None = None) -> tuple[Any, int]:
    """One JSON value at ``pos``: strict (no duplicate keys, NaN or Infinity), with located errors.

    ``lineno``: the file line when ``text`` is that one line.
    """
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    line = lineno if lineno is not None else _line_at(text, pos)
    try:
        return decoder.raw_decode(text, pos)
    except _DuplicateKey as exc:
        raise InputError(path, line, exc.key, "duplicate key in one JSON object") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            path,
            lineno if lineno is not None else exc.lineno,
            None,
            f"malformed JSON ({exc.msg} at column {exc.colno})",
        ) from None
    except ValueError as exc:
        raise InputError(path, line, None, f"malformed JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, line, None, "malformed JSON (nested too deeply)") from None


def _records_jsonl(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    # Lines end at \n only: U+2028, U+2029 and U+0085 are valid inside JSON strings (str.splitlines breaks on them).
    _check_depth(path, text, MAX_JSON_DEPTH)
    for lineno, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        value, stop = _decode_value(path, raw, len(raw) - len(raw.lstrip()), lineno)
        if raw[stop:].strip():
            raise InputError(path, lineno, None, "malformed JSON (content after the value on this line)")
        yield lineno, value


def _records_json(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    # Decode element by element so each record keeps the line it starts on.
    _check_depth(path, text, MAX_JSON_DEPTH + 1)
    pos = len(text) - len(text.lstrip())
    if not text.startswith("[", pos):
        raise InputError(path, _line_at(text, pos), None, "a .json item file must hold a JSON array of objects")
    pos += 1
    expect_value = True
    after_comma = False
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise InputError(path, _line_at(text, len(text)), None, "malformed JSON (the array is not closed)")
        if text[pos] == "]":
            if after_comma:
                raise InputError(path, _line_at(text, pos), None, "malformed JSON (trailing comma before ']')")
            rest = text[pos + 1 :]
            if rest.strip():
                where = pos + 1 + len(rest) - len(rest.lstrip())
                raise InputError(
                    path, _line_at(text, where), None, "malformed JSON (content after the closing ']' of the array)"
                )
            return
        if not expect_value:
            if text[pos] != ",":
                raise InputError(path, _line_at(text, pos), None, "malformed JSON (expected ',' or ']')")
            pos += 1
            expect_value = after_comma = True
            continue
        line = _line_at(text, pos)
        value, pos = _decode_value(path, text, pos)
        expect_value = after_comma = False
        yield line, value


def _records_csv(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    # The csv module's field cap (128 KiB) is process-wide; lift it only while this file is read, so an over-long
    # text reaches the per-item character cap instead of failing the whole file.
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max(old_limit, len(text) + 1))
    try:
        yield from _csv_rows(path, text)
    finally:
        csv.field_size_limit(old_limit)


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, Any]]:
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
    names = [name.strip() for name in fieldnames]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(path, 1, dupes[0], "CSV header names this column more than once")
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(path, reader.line_num, None, f"malformed CSV ({exc})") from None
        if None in row:
            raise InputError(
                path, start, None, f"row has {len(fieldnames) + len(row[None])} cells; the header has {len(fieldnames)}"
            )
        cleaned = {k.strip(): (v if v is not None and v.strip() != "" else None) for k, v in row.items()}
        if any(v is not None for v in cleaned.values()):
            yield start, {k: v for k, v in cleaned.items() if v is not None}
        start = reader.line_num + 1


_FORMATS = {".jsonl": _records_jsonl, ".ndjson": _records_jsonl, ".json": _records_json, ".csv": _records_csv}


def iter_records(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, raw record)`` from a JSONL, JSON-array or CSV file (format chosen by extension).

    Only a regular file is read (a FIFO, device, directory or a link to one is refused before reading), at most
    ``max_bytes`` of it. JSON is parsed strictly: duplicate keys, trailing commas, content after the array, NaN,
    and nesting deeper than ``MAX_JSON_DEPTH`` are errors with the line.
    """
    path = Path(path)
    reader = _FORMATS.get(path.suffix.lower())
    if path.is_dir():
        raise InputError(path, None, None, "is a directory, not a file")
    if reader is None:
        raise InputError(path, None, None, f"unknown file type {path.suffix!r}; use .jsonl, .json or .csv")
    text = _read_text(path, max_bytes)
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


def read_models(path: str | os.PathLike[str], model: type[M], max_bytes: int = MAX_FILE_BYTES) -> list[M]:
    """Read every record of ``path`` as ``model``; raise ``InputErrors`` listing every bad record."""
    return validate_records(path, iter_records(path, max_bytes), model)


def read_items(path: str | os.PathLike[str]) -> list[ItemDraft]:
    """Read stimulus items written by an author (minimum fields ``id`` and ``text``).

    Policies on the text (length, character cap, control characters) are not checked here: ``validate``
    fails the one item and still reports the others.
    """
    return read_models(path, ItemDraft, MAX_ITEM_FILE_BYTES)


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write a file so that readers see the old content or the new, never a torn one.

    The temporary file is created with mode 0o666 and the kernel applies the process umask, exactly as for a
    plain ``open()``: the published file gets the usual mode without reading or changing the umask (changing it
    would be a process-wide side effect, racy with other threads).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(f"cannot create a temporary file next to {path}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def dumps_jsonl(records: list[dict[str, Any]]) -> str:
    """Serialise records as deterministic JSON Lines."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records)

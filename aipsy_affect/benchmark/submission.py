"""The one submission intake: ``score``, ``submit`` and the Python API all read submissions through here.

:func:`load_submission` reads a file safely (a regular file, under a size cap, read with a cap), parses strict JSON
(duplicate keys refused, with the line), validates it (:mod:`aipsy_affect.benchmark.format`), checks it against
the answer key, a :class:`~aipsy_affect.battery.release.Release` (:mod:`aipsy_affect.benchmark.checks`), and
returns a :class:`LoadedSubmission`. Its ``sha256`` is the hash of the content
(:meth:`~aipsy_affect.benchmark.format.Submission.content_sha256`), so a re-submission that differs only in
whitespace or key order is recognised as the same submission. Every problem raises ``InputErrors`` naming the
file, the line where there is one, and the field.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic_core
from pydantic import ValidationError

from aipsy_affect.benchmark.checks import check_submission
from aipsy_affect.benchmark.format import (
    CATEGORY_SPLITS,
    FORMAT_VERSION,
    MAX_SUBMISSION_BYTES,
    PROB_SUM_TOLERANCE,
    TWIN_SPLIT,
    DatasetInfo,
    LayerOutputs,
    MethodInfo,
    ModelInfo,
    Submission,
    fmt_ids,
    show_id,
)
from aipsy_affect.errors import InputError, InputErrors

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release
    from aipsy_affect.battery.schema import Battery


# --- reading --------------------------------------------------------------------------------------------


def _field_path(loc: tuple[object, ...]) -> str | None:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or None


def located(source: str | os.PathLike[str], exc: ValidationError) -> list[InputError]:
    """One located error per problem of a submission, per-item problems grouped by layer and field."""
    errors = exc.errors()
    version = [e for e in errors if e["loc"] == ("format_version",)]
    if version:
        # Any other complaint about a file of an unknown version is noise: the format itself may differ.
        msg = (
            f"format_version is missing; this aipsy-affect reads format_version {FORMAT_VERSION}"
            if version[0]["type"] == "missing"
            else version[0]["msg"].removeprefix("Value error, ")
        )
        return [InputError(source, None, "format_version", msg)]
    out: list[InputError] = []
    by_kind: dict[tuple[str, str], list[str]] = defaultdict(list)
    for err in errors:
        loc = tuple(err["loc"])
        if not loc and err["type"] in ("model_type", "dict_type"):
            return [
                InputError(
                    source,
                    None,
                    None,
                    f"a submission is one JSON object; this file holds a {type(err.get('input')).__name__}",
                )
            ]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "finite_number":
            msg = "non-finite value (NaN or infinity); every score must be a finite number"
        elif err["type"] == "literal_error" and "input" in err:
            msg = f"{err['input']!r} is not allowed ({msg})"
        # Per-item errors inside a layer are grouped so a wholly NaN layer gives one line, not thousands.
        if len(loc) >= 4 and loc[0] == "layers" and loc[2] in ("affect", "category", "folds"):
            by_kind[(f"layers[{loc[1]}].{loc[2]}", msg)].append(str(loc[3]))
            continue
        out.append(InputError(source, None, _field_path(loc), msg))
    for (field, msg), ids in by_kind.items():
        out.append(InputError(source, None, field, f"{msg}: {fmt_ids(sorted(set(ids)))}"))
    return out


def _walk_keys(value: Any) -> tuple[int, int]:
    """Object members and ':' characters inside strings, over any parsed JSON value."""
    members = colons = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            members += len(node)
            colons += "".join(node).count(":")
            children: Any = node.values()
        elif type(node) is list:
            children = node
        else:
            children = (node,)
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append(child)
            elif kind is str:
                colons += child.count(":")
    return members, colons


def _count_keys(value: Any) -> tuple[int, int]:
    """:func:`_walk_keys`, fast for the shape of a submission: the per-item maps are counted from their keys alone.

    Their values must be numbers; a string among them (where a ':' would go uncounted) makes the file invalid anyway.
    """
    layers = value.get("layers") if type(value) is dict else None
    if type(layers) is not list or not all(type(layer) is dict for layer in layers):
        return _walk_keys(value)
    members, colons = _walk_keys({k: v for k, v in value.items() if k != "layers"})
    members += 1
    for layer in layers:
        members += len(layer)
        colons += "".join(layer).count(":")
        for name, part in layer.items():
            if type(part) is dict and name in ("affect", "folds"):
                members += len(part)
                colons += "".join(part).count(":")
            elif type(part) is dict and name == "category" and set(map(type, part.values())) <= {dict}:
                members += len(part) + sum(map(len, part.values()))
                colons += "".join(part).count(":") + "".join(chain.from_iterable(part.values())).count(":")
            else:
                m, c = _walk_keys(part)
                members, colons = members + m, colons + c
    return members, colons


def _duplicate_key(text: str) -> tuple[int, str] | None:
    """The line and name of the first duplicate object key, found with the (slower) stdlib parser."""
    found: list[tuple[int, str]] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys) and not found:
            dup = next(k for k in keys if keys.count(k) > 1)
            match = re.search(re.escape(json.dumps(dup)) + r"\s*:", text)
            found.append((text.count("\n", 0, match.start()) + 1 if match else 1, dup))
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return found[0] if found else None


def _parse_json(text: str, source: str | os.PathLike[str]) -> Any:
    try:
        value = pydantic_core.from_json(text, allow_inf_nan=True)
    except ValueError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputErrors(
            [InputError(source, int(m.group(1)) if m else None, None, f"malformed JSON ({exc})")]
        ) from None
    if not isinstance(value, (dict, list)):
        return value
    # Duplicate keys: the fast parser keeps the last one silently. Outside strings every ':' separates one
    # object member, so the raw ':' count tells whether members were lost, unless a string spells ':' as an
    # escape, when the exact (slower) parser decides.
    members, in_strings = _count_keys(value)
    if "\\u003a" in text or "\\u003A" in text or text.count(":") - in_strings != members:
        dup = _duplicate_key(text)
        if dup is not None:
            raise InputErrors(
                [
                    InputError(
                        source, dup[0], show_id(dup[1]), "duplicate key in a JSON object (each key may appear once)"
                    )
                ]
            )
    return value


def parse_submission(data: bytes | str, source: str | os.PathLike[str] = "<submission>") -> Submission:
    """Parse and structurally validate a submission; raise ``InputErrors`` naming every problem's field."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputErrors(
                [
                    InputError(
                        source,
                        None,
                        None,
                        f"not valid UTF-8 (byte at offset {exc.start}); save the submission as UTF-8 JSON",
                    )
                ]
            ) from None
    if not data.strip():
        raise InputErrors([InputError(source, None, None, "file is empty")])
    value = _parse_json(data, source)
    try:
        return Submission.model_validate(value)
    except ValidationError as exc:
        raise InputErrors(located(source, exc)) from None


def read_bytes(path: str | os.PathLike[str], max_bytes: int = MAX_SUBMISSION_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; a located error for anything else."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputErrors([InputError(path, None, None, "no such file")]) from None
    except OSError as exc:
        raise InputErrors([InputError(path, None, None, f"cannot be read ({exc.strerror})")]) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputErrors([InputError(path, None, None, "is a directory, not a submission file")])
    if not stat.S_ISREG(info.st_mode):
        raise InputErrors([InputError(path, None, None, "is not a regular file (a FIFO, device or socket)")])
    if info.st_size > max_bytes:
        raise InputErrors(
            [InputError(path, None, None, f"file is {info.st_size} bytes; the limit is {max_bytes} bytes")]
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputErrors([InputError(path, None, None, f"cannot be read ({exc.strerror})")]) from None
    if len(data) > max_bytes:
        raise InputErrors([InputError(path, None, None, f"file is over the limit of {max_bytes} bytes")])
    return data


def read_submission(path: str | os.PathLike[str], max_bytes: int = MAX_SUBMISSION_BYTES) -> tuple[Submission, str]:
    """Read and validate a submission file (not checked against the battery); return it and its content sha256."""
    submission = parse_submission(read_bytes(path, max_bytes), path)
    return submission, submission.content_sha256()


@dataclass(frozen=True)
class LoadedSubmission:
    """A submission that passed every check, with what the leaderboard stores about the file."""

    submission: Submission
    """The validated, checked submission."""
    sha256: str
    """sha256 of the canonical content (:meth:`Submission.content_sha256`): duplicates are found by it."""
    data: bytes
    """The file's bytes as read (stored byte for byte on the leaderboard)."""
    source: str
    """Where it was read from, for messages."""

    def __iter__(self) -> Iterator[Any]:
        # ``submission, sha256 = load_submission(path)`` keeps working for callers of the older tuple API.
        yield self.submission
        yield self.sha256


def as_release(answer_key: Release | Battery | None, data_sha256: str | None = None) -> tuple[Battery, str | None]:
    """The battery and the dataset hash to check against: the packaged release by default."""
    from aipsy_affect.battery.release import Release, packaged_release

    if answer_key is None:
        answer_key = packaged_release()
    if isinstance(answer_key, Release):
        return answer_key.battery, data_sha256 or answer_key.sha256
    return answer_key, data_sha256


def load_submission(
    path: str | os.PathLike[str],
    release: Release | Battery | None = None,
    *,
    dataset_revision: str | None = None,
    max_bytes: int = MAX_SUBMISSION_BYTES,
) -> LoadedSubmission:
    """Read, validate and check a submission file against an answer key (default: the packaged release).

    ``release`` is a :class:`~aipsy_affect.battery.release.Release` (its hash is the dataset revision the
    submission must match) or a bare ``Battery`` (then only ``dataset_revision``, when given, is enforced).
    Raises ``InputErrors`` listing every problem, each with the file and the field.
    """
    battery, revision = as_release(release, dataset_revision)
    data = read_bytes(path, max_bytes)
    submission = parse_submission(data, path)
    errors = check_submission(submission, battery, source=path, dataset_revision=revision)
    if errors:
        raise InputErrors(errors)
    return LoadedSubmission(submission, submission.content_sha256(), data, str(path))


__all__ = [
    "CATEGORY_SPLITS",
    "FORMAT_VERSION",
    "MAX_SUBMISSION_BYTES",
    "PROB_SUM_TOLERANCE",
    "TWIN_SPLIT",
    "DatasetInfo",
    "LayerOutputs",
    "LoadedSubmission",
    "MethodInfo",
    "ModelInfo",
    "Submission",
    "as_release",
    "check_submission",
    "fmt_ids",
    "load_submission",
    "located",
    "parse_submission",
    "read_bytes",
    "read_submission",
    "show_id",
]

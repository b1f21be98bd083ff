"""The leaderboard store: an append-only directory of scored submissions (rendering is in ``render.leaderboard``).

A leaderboard is a directory::

    DIR/entries.jsonl             one LeaderboardEntry per line, oldest first; lines are never changed
    DIR/submissions/<sha256>.json the submitted file, byte for byte (so any entry can be re-scored)
    DIR/.lock                     the file lock that serialises writers

Every write takes the lock, re-reads the store, refuses a submission whose content hash is already there, removes
what a crashed writer left behind (temporary files, a submission copy without an entry), and replaces
``entries.jsonl`` atomically, so concurrent ``submit`` calls all land and a crash leaves the old file or the new
one. Lines are split on ``\\n`` only and written with U+2028, U+2029 and U+0085 escaped, so no string inside an
entry can break a line. A board that cannot be read raises :class:`~aipsy_affect.errors.LeaderboardError` naming
the file and line: a bad board is never blamed on the submission being added.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aipsy_affect.battery.io import located_errors, write_atomic
from aipsy_affect.benchmark.format import Submission
from aipsy_affect.benchmark.report import Interval, Score, ScoreReport
from aipsy_affect.errors import DuplicateSubmissionError, InputErrors, LeaderboardError

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release
    from aipsy_affect.battery.schema import Battery

__all__ = ["ENTRIES_FILE", "LOCK_FILE", "ROLES", "SUBMISSIONS_DIR", "Leaderboard", "LeaderboardEntry", "Role", "submit"]

ENTRIES_FILE = "entries.jsonl"
SUBMISSIONS_DIR = "submissions"
LOCK_FILE = ".lock"
#: Seconds a writer waits for the lock before giving up with a clear error.
LOCK_TIMEOUT = 120.0
Role = Literal["entry", "lexical_floor", "chance"]
ROLES: tuple[str, ...] = ("entry", "lexical_floor", "chance")
# Valid JSON inside strings, but line breaks to str.splitlines(): always written as escapes.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}


class LeaderboardEntry(BaseModel):
    """One scored submission on the leaderboard."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_version: Literal[2] = 2
    """Version of this entry format (2: cross-validated main score, roles, lexical gain)."""

    submission_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    """Content hash of the submission (``Submission.content_sha256``): the identity duplicates are found by."""

    submitted_at: datetime
    """When the entry was added (UTC)."""

    role: Role = "entry"
    """``entry`` (ranked), or a reference that is drawn but never ranked: ``lexical_floor`` or ``chance``."""

    submitter: str | None = None
    """Who submitted, copied from the submission."""

    dataset_revision: str | None = None
    """The dataset revision the submission declared, if any."""

    software: dict[str, str] = Field(default_factory=dict)
    """Software versions the submission declared."""

    lexical_gain: Score | None = None
    """``main_score`` minus the lexical floor's on the same data; ``None`` when the board had no floor yet."""

    lexical_gain_ci: Interval | None = None
    """Paired pair-bootstrap CI of ``lexical_gain`` (both scored on the same resampled pairs)."""

    lexical_floor_sha256: str | None = None
    """Content hash of the lexical-floor submission the gain was measured against."""

    report: ScoreReport
    """The full score report (per-layer metrics, headlines, stamps)."""

    @property
    def above_lexical_floor(self) -> bool | None:
        """Whether the gain's CI lies above 0; ``None`` without a gain."""
        return None if self.lexical_gain_ci is None else self.lexical_gain_ci[0] > 0.0


def _entry_line(entry: LeaderboardEntry) -> bytes:
    text = entry.model_dump_json()
    for raw, escaped in _LINE_BREAKS.items():
        text = text.replace(raw, escaped)
    return text.encode("utf-8") + b"\n"


def _fs_error(path: Path, exc: OSError, doing: str) -> LeaderboardError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return LeaderboardError(
        f"{path}: cannot {doing} ({reason}); check the leaderboard directory's permissions, "
        "free space, and that it is a directory"
    )


class Leaderboard:
    """An append-only leaderboard directory (see the module docstring for the layout)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.entries_path = self.directory / ENTRIES_FILE
        self.lock_path = self.directory / LOCK_FILE
        self.submissions_dir = self.directory / SUBMISSIONS_DIR

    def _check_layout(self, *, must_exist: bool) -> bool:
        """Whether ``entries.jsonl`` exists; a located error for a directory in a state no board can be in."""
        try:
            info = self.directory.stat()
        except FileNotFoundError:
            if must_exist:
                raise LeaderboardError(f"{self.directory}: no such leaderboard directory") from None
            return False
        except OSError as exc:
            raise _fs_error(self.directory, exc, "read the leaderboard") from None
        if not stat.S_ISDIR(info.st_mode):
            raise LeaderboardError(f"{self.directory}: is a file, not a leaderboard directory")
        for path, kind in (
            (self.entries_path, "a file"),
            (self.submissions_dir, "a directory"),
            (self.lock_path, "a file"),
        ):
            if path.exists() and (path.is_dir() if kind == "a file" else not path.is_dir()):
                raise LeaderboardError(
                    f"{path}: should be {kind}; the leaderboard is corrupt (move it away or restore it from a backup)"
                )
        return self.entries_path.exists()

    def exists(self) -> bool:
        """Whether the directory holds a leaderboard (an ``entries.jsonl``)."""
        return self._check_layout(must_exist=False)

    def entries(self) -> list[LeaderboardEntry]:
        """Every entry, oldest first; ``LeaderboardError`` naming file and line when the board is corrupt."""
        if not self._check_layout(must_exist=True):
            return []
        try:
            data = self.entries_path.read_bytes()
        except OSError as exc:
            raise _fs_error(self.entries_path, exc, "read") from None
        return parse_entries(self.entries_path, data)

    def submission_path(self, sha256: str) -> Path:
        """Where the submitted file of an entry is stored."""
        return self.submissions_dir / f"{sha256}.json"

    def stored_submission(self, entry: LeaderboardEntry) -> Submission:
        """The stored submission of an entry, parsed (``LeaderboardError`` when it is missing or unreadable)."""
        from aipsy_affect.benchmark.submission import parse_submission, read_bytes

        path = self.submission_path(entry.submission_sha256)
        try:
            return parse_submission(read_bytes(path), path)
        except InputErrors as exc:
            raise LeaderboardError(
                f"the leaderboard is corrupt: the stored submission of {entry.report.model.id} cannot be read:\n{exc}"
            ) from None

    def lexical_floor(self, data_sha256: str | None) -> LeaderboardEntry | None:
        """The lexical-floor reference entry scored on the same data, if the board has one."""
        return next(
            (e for e in self.entries() if e.role == "lexical_floor" and e.report.data_sha256 == data_sha256), None
        )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT):
                yield
        except Timeout:
            raise LeaderboardError(
                f"{self.lock_path}: could not take the leaderboard lock within "
                f"{LOCK_TIMEOUT:g} s (another submit is stuck?)"
            ) from None
        except OSError as exc:
            raise _fs_error(Path(exc.filename) if exc.filename else self.directory, exc, "write") from None

    def _clean(self, existing: list[LeaderboardEntry]) -> None:
        """Remove what a crashed writer left: temporary files, and submission copies that no entry names."""
        known = {f"{e.submission_sha256}.json" for e in existing}
        for folder in (self.directory, self.submissions_dir):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)
        if self.submissions_dir.is_dir():
            for copy in self.submissions_dir.glob("*.json"):
                if copy.name not in known:
                    copy.unlink(missing_ok=True)

    def add(self, entry: LeaderboardEntry, submission_bytes: bytes | None = None) -> list[LeaderboardEntry]:
        """Append ``entry`` under the lock; refuse a duplicate; return every entry afterwards."""
        self._check_layout(must_exist=False)
        with self._locked():
            self._check_layout(must_exist=True)
            old = self.entries_path.read_bytes() if self.entries_path.exists() else b""
            existing = parse_entries(self.entries_path, old)
            for other in existing:
                if other.submission_sha256 == entry.submission_sha256:
                    raise DuplicateSubmissionError(entry.submission_sha256, other)
            if entry.role == "lexical_floor" and any(
                e.role == "lexical_floor" and e.report.data_sha256 == entry.report.data_sha256 for e in existing
            ):
                raise LeaderboardError(
                    "the leaderboard already has a lexical floor for this dataset revision; "
                    "every gain is measured against the first one"
                )
            self._clean(existing)
            if submission_bytes is not None:
                # The copy goes first: an entry never points at a submission that is not there.
                write_atomic(self.submission_path(entry.submission_sha256), submission_bytes)
            if old and not old.endswith(b"\n"):
                old += b"\n"
            write_atomic(self.entries_path, old + _entry_line(entry))
            return [*existing, entry]


def parse_entries(path: Path, data: bytes) -> list[LeaderboardEntry]:
    """Entries of an ``entries.jsonl``, split on ``\\n`` only; ``LeaderboardError`` with file:line when corrupt."""
    problems: list[str] = []
    out: list[LeaderboardEntry] = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{path}:{lineno}: not valid UTF-8 (byte at column {exc.start + 1})")
            continue
        try:
            out.append(LeaderboardEntry.model_validate_json(text))
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                problems.append(f"{path}:{lineno}: malformed JSON")
            else:
                problems.extend(str(e) for e in located_errors(path, lineno, exc)[:5])
    if problems:
        raise LeaderboardError(
            "the leaderboard is corrupt (fix or remove the named lines; the submitted files are in "
            f"{path.parent / SUBMISSIONS_DIR}):\n" + "\n".join(problems[:20])
        )
    return out


def submit(
    path: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    release: Release | Battery | None = None,
    *,
    role: Role = "entry",
    data_sha256: str | None = None,
    now: datetime | None = None,
) -> tuple[LeaderboardEntry, list[LeaderboardEntry]]:
    """Validate, score and append a submission file; return its entry and the whole board afterwards.

    The board is read first (a corrupt board raises ``LeaderboardError`` before the submission is looked at), then
    the submission goes through the one intake (``InputErrors`` when invalid), then it is scored and, when the board
    has a lexical floor for the same data, its paired gain over the floor is measured. ``DuplicateSubmissionError``
    for content already on the board.
    """
    from aipsy_affect.benchmark.floors import lexical_gain
    from aipsy_affect.benchmark.scoring import score_in_full
    from aipsy_affect.benchmark.submission import as_release, load_submission

    board = Leaderboard(directory)
    existing = board.entries() if board.exists() else []
    battery, data_sha256 = as_release(release, data_sha256)
    loaded = load_submission(path, battery, dataset_revision=data_sha256)
    # Refuse a known duplicate before the (comparatively slow) scoring; add() checks again under the lock.
    for other in existing:
        if other.submission_sha256 == loaded.sha256:
            raise DuplicateSubmissionError(loaded.sha256, other)
    scored = score_in_full(
        loaded.submission, battery, data_sha256=data_sha256, submission_sha256=loaded.sha256, checked=True
    )
    gain: float | None = None
    gain_ci: tuple[float, float] | None = None
    floor_sha: str | None = None
    floor = next((e for e in existing if e.role == "lexical_floor" and e.report.data_sha256 == data_sha256), None)
    if role == "lexical_floor":
        gain, gain_ci, floor_sha = 0.0, (0.0, 0.0), loaded.sha256
    elif floor is not None:
        gain, gain_ci = lexical_gain(scored, board.stored_submission(floor))
        floor_sha = floor.submission_sha256
    submission = loaded.submission
    entry = LeaderboardEntry(
        submission_sha256=loaded.sha256,
        submitted_at=now or datetime.now(timezone.utc),
        role=role,
        submitter=submission.submitter,
        dataset_revision=submission.dataset.revision if submission.dataset else None,
        software=submission.software,
        lexical_gain=gain,
        lexical_gain_ci=gain_ci,
        lexical_floor_sha256=floor_sha,
        report=scored.report,
    )
    return entry, board.add(entry, loaded.data)

"""The package's exceptions: one base class, and the exit code each kind maps to on the command line.

Every error the package raises on purpose derives from :class:`AffectError`, so ``except AffectError`` catches
them all. The CLI turns them into exit codes in one place (``cli.common.run_command``) by reading ``exit_code``:
2 for bad input (a file, a submission, an option), 1 for a refusal that is about the data rather than the input
(a duplicate submission, a failed certification), 3 for an environment problem (a model that cannot be loaded,
a Hub call that failed).
"""

from __future__ import annotations

import os
from typing import Any, Literal

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_INPUT = 2
EXIT_ENVIRONMENT = 3


class AffectError(Exception):
    """Base of every exception aipsy-affect raises on purpose."""

    exit_code: int = EXIT_INPUT


class InputError(AffectError, ValueError):
    """A problem with an input file, located by file, line and field."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, field: str | None, message: str) -> None:
        self.path, self.line, self.field, self.message = str(path), line, field, message
        super().__init__(self.location() + message)

    def location(self) -> str:
        out = self.path
        if self.line is not None:
            out += f":{self.line}"
        out += ": "
        if self.field:
            out += f"{self.field}: "
        return out


class InputErrors(AffectError, ValueError):
    """Several located problems found in one file (all are reported, not only the first)."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class ClassifierError(AffectError, RuntimeError):
    """A classifier could not be loaded or used (bad id, missing weights, hash mismatch, unmappable labels)."""

    exit_code = EXIT_INPUT


class ModelLoadError(AffectError, RuntimeError):
    """A model for probing or extraction could not be resolved or loaded."""


class DeviceError(AffectError, RuntimeError):
    """A requested device or dtype cannot be used here (``--device cuda`` without a GPU, an unknown dtype).

    Exit 2, as before the restructure: the option is wrong for this machine, nothing was run."""

    exit_code = EXIT_INPUT


class ExtractionError(AffectError, RuntimeError):
    """A model was loaded but running it failed (out of memory, non-finite states, a missing optional backend)."""

    exit_code = EXIT_FAIL


CertificationProblem = Literal["missing", "malformed", "stale", "incomplete", "failed"]


class CertificationError(AffectError):
    """The validation report cannot vouch for the data; ``problems`` name each reason (first is the main one).

    A malformed report is bad input (exit 2); a missing, stale, incomplete or failed one is a refusal (exit 1).
    """

    exit_code = EXIT_FAIL

    def __init__(self, problems: list[tuple[CertificationProblem, str]]) -> None:
        self.problems = problems
        self.reason: CertificationProblem = problems[0][0]
        self.exit_code = EXIT_INPUT if self.reason == "malformed" else EXIT_FAIL
        super().__init__("\n".join(f"{kind}: {message}" for kind, message in problems))


class ExportError(AffectError, ValueError):
    """An export cannot be written, or an exported folder does not match its manifest."""


class PublishError(AffectError, RuntimeError):
    """Publishing was refused (``refused``) or a Hub call failed; the message never contains the token."""

    def __init__(self, message: str, *, refused: bool) -> None:
        self.refused = refused
        self.exit_code = EXIT_FAIL if refused else EXIT_ENVIRONMENT
        super().__init__(message)


class DuplicateSubmissionError(AffectError, ValueError):
    """The same submission (same canonical content) is already on the leaderboard."""

    exit_code = EXIT_FAIL

    def __init__(self, sha256: str, existing: Any) -> None:
        self.sha256, self.existing = sha256, existing
        super().__init__(
            f"duplicate submission: sha256 {sha256} is already on the leaderboard "
            f"({existing.report.model.id} @ {existing.report.model.revision}, "
            f"submitted {existing.submitted_at.isoformat()})"
        )


class OptionError(AffectError, ValueError):
    """A command-line option or function argument is out of range (``--seed -1``, ``--n-bootstrap 1``)."""


class LeaderboardError(AffectError):
    """A leaderboard directory is corrupt or cannot be read or written; never a problem of the submission."""


__all__ = [
    "EXIT_ENVIRONMENT",
    "EXIT_FAIL",
    "EXIT_INPUT",
    "EXIT_OK",
    "AffectError",
    "CertificationError",
    "CertificationProblem",
    "ClassifierError",
    "DeviceError",
    "DuplicateSubmissionError",
    "ExportError",
    "ExtractionError",
    "InputError",
    "InputErrors",
    "LeaderboardError",
    "ModelLoadError",
    "OptionError",
    "PublishError",
]

"""Shared pieces of the command line: exit codes, messages, and the one place exceptions become exit codes."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

from aipsy_affect.errors import EXIT_FAIL, EXIT_INPUT, EXIT_OK, AffectError

__all__ = ["EXIT_FAIL", "EXIT_INPUT", "EXIT_OK", "add_quiet", "err", "run_command"]

# A message can quote a file name or a field value; its control and bidi characters must not reach the terminal.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def err(message: str) -> None:
    """Print a message for the user on standard error, prefixed with the program name (controls escaped)."""
    message = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", message)
    print(f"aipsy-affect: {message}", file=sys.stderr)


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bars or progress lines on standard error (results still print)."""
    parser.add_argument("--quiet", action="store_true", help="no progress output on standard error")


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one subcommand and map what it raises to an exit code: the only place that does so.

    ``AffectError`` subclasses carry their own exit code (2 bad input, 1 refused or failed); an interrupt is
    130 and a closed pipe (``| head``) is success.
    """
    try:
        return int(func(args))
    except AffectError as exc:
        err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK

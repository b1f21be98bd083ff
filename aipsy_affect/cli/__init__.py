"""The ``aipsy-affect`` command line: one module per command group, exceptions mapped to exit codes in one place."""

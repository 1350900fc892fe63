"""One error base for everything a user can get wrong or the world can break.

The CLI turns a KgError into its message and exit code; nothing else is caught.
Library errors speak of what the caller gave (the "minimum confidence"), not of how
it was given: `field` names the input (e.g. "min_confidence", or several), and the
CLI names its flag for it (kg/cli/console.py), while the app shows the message as it is.
"""

from __future__ import annotations


class KgError(Exception):
    """A domain error with a message meant for the user and an exit code."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, field: str | tuple[str, ...] | None = None,
                 **context):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field
        self.context = context

    @property
    def fields(self) -> tuple[str, ...]:
        """The inputs the error is about (parameter names of the library call), in order; () for none."""
        if not self.field:
            return ()
        return (self.field,) if isinstance(self.field, str) else tuple(self.field)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UsageError(KgError):
    """The user asked for something that does not exist (a format, a query name)."""

    exit_code = 2


class GraphMissing(KgError):
    """No graph has been built in the store yet."""


class CorpusError(KgError):
    """A corpus or records file is broken; names the file and the entry."""

    def __init__(self, path, entry: str | None, problem: str):
        where = f"{path}" + (f", entry {entry}" if entry else "")
        super().__init__(f"{where}: {problem}", path=str(path), entry=entry)


class QuerySyntaxError(KgError):
    """SPARQL that does not parse; carries line and column."""

    exit_code = 2

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"SPARQL syntax error at {where}{message}", line=line, column=column)
        self.line = line
        self.column = column


class QueryRefused(KgError):
    """A query the read-only guard does not allow (updates, SERVICE, ...)."""

    exit_code = 2


class QueryLimitExceeded(KgError):
    """A query ran past the time limit."""

    exit_code = 3

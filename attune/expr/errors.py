"""The error tree of the expression language.

Every failure — lexing, parsing, evaluating, a limit — raises one `ExprError`
subclass and nothing else. They are `attune.errors.ValidationError`s, so the API
answers 422 and the CLI prints the message without further mapping.

An error knows where it happened: `offset` is the character offset into `source`
(the whole template or expression the caller handed in), `line`/`column` are
1-based. Errors raised deep inside an operator or a built-in start without a
position; the evaluator attaches the position of the node that failed.
"""

from __future__ import annotations

from typing import Any

from attune.errors import ValidationError


class ExprError(ValidationError):
    """Root of every error the expression language raises."""

    kind = "error"

    def __init__(self, reason: str, *, offset: int | None = None,
                 source: str | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.offset = offset
        self.source = source
        self.field = field
        super().__init__(reason)
        self._refresh()

    @property
    def line(self) -> int | None:
        if self.offset is None or self.source is None:
            return None
        return self.source.count("\n", 0, self.offset) + 1

    @property
    def column(self) -> int | None:
        if self.offset is None or self.source is None:
            return None
        return self.offset - (self.source.rfind("\n", 0, self.offset) + 1) + 1

    def locate(self, offset: int, source: str | None = None) -> ExprError:
        """Attach a position unless a more precise (inner) one is already known."""
        if self.offset is None:
            self.offset = offset
        if self.source is None and source is not None:
            self.source = source
        self._refresh()
        return self

    def in_source(self, source: str) -> ExprError:
        if self.source is None:
            self.source = source
            self._refresh()
        return self

    def at_field(self, field: str) -> ExprError:
        """Name the input field the template came from (e.g. `action_params.msg`)."""
        if self.field is None:
            self.field = field
            self._refresh()
        return self

    def excerpt(self) -> str:
        """The offending source line with a caret under the error position."""
        if self.source is None or self.offset is None:
            return ""
        start = self.source.rfind("\n", 0, self.offset) + 1
        end = self.source.find("\n", self.offset)
        text = self.source[start:end if end >= 0 else len(self.source)]
        return f"{text}\n{' ' * (self.offset - start)}^"

    def _refresh(self) -> None:
        text = self.reason
        if self.line is not None:
            text = f"{text} at line {self.line}, column {self.column}"
        if self.field is not None:
            text = f"{self.field}: {text}"
        self.message = text
        self.args = (text,)
        detail: dict[str, Any] = {"field": self.field, "message": self.reason,
                                  "kind": self.kind}
        if self.offset is not None:
            detail.update(offset=self.offset, line=self.line, column=self.column)
        self.details = [detail]


class ExprSyntaxError(ExprError):
    """The text is not a well-formed template or expression."""

    kind = "syntax"


class ExprNameError(ExprError):
    """An unknown variable or function, or a function not available here."""

    kind = "name"


class ExprTypeError(ExprError):
    """An operator or function got a value of the wrong type (no implicit coercion)."""

    kind = "type"


class ExprArityError(ExprTypeError):
    """A function was called with the wrong number of arguments."""

    kind = "arity"


class ExprLookupError(ExprError):
    """A missing object field or key, or an index out of range."""

    kind = "lookup"


class ExprValueError(ExprError):
    """The type is right but the value is not (e.g. `int("abc")`, a bad regex)."""

    kind = "value"


class ExprZeroDivisionError(ExprValueError):
    kind = "zero_division"


class ExprLimitError(ExprError):
    """A size, depth, range or cost limit was exceeded (see `attune.expr.limits`)."""

    kind = "limit"

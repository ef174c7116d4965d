"""The table of built-in functions (exactly the original engine's list and arities)
and the names of the workflow functions a context may supply.

    conversion     string(v) number(v) int(v) bool(v)
    introspection  type_of(v) length(v) keys(obj) values(obj)
    math           abs(n) floor(n) ceil(n) round(n) min(a, b) max(a, b) sum(arr)
    string         lower(s) upper(s) trim(s) split(s, sep) join(arr, sep)
                   replace(s, old, new) starts_with(s, prefix) ends_with(s, suffix)
                   match(pattern, s)
    collection     contains(haystack, needle) reversed(v) sort(arr) unique(arr) flat(arr)
                   zip(a, b) range(n) | range(start, end) slice(v, start[, end])
                   index_of(haystack, needle) count(haystack, needle) merge(a, b)
                   chunks(arr, size)
    workflow       result() succeeded() failed() timed_out() cancelled()
                   (supplied by the workflow's context; elsewhere they are errors)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from attune.expr import builtins_core as core
from attune.expr import builtins_lists as lists
from attune.expr import builtins_text as text
from attune.expr.errors import ExprArityError
from attune.expr.values import JSON

WORKFLOW_FUNCTIONS = frozenset({"result", "succeeded", "failed", "timed_out", "cancelled"})


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    params: str
    min_args: int
    max_args: int
    impl: Callable[..., JSON]

    @property
    def signature(self) -> str:
        return f"{self.name}({self.params})"

    def check_arity(self, given: int, offset: int | None = None) -> None:
        if self.min_args <= given <= self.max_args:
            return
        if self.min_args == self.max_args:
            wanted = f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        else:
            wanted = f"{self.min_args} to {self.max_args} arguments"
        raise ExprArityError(f"{self.name}() takes {wanted}: {self.signature}, got {given}",
                             offset=offset)


def _table(*entries: tuple[str, str, int, int, Callable[..., JSON]]) -> dict[str, Builtin]:
    return {name: Builtin(name, params, low, high, impl)
            for name, params, low, high, impl in entries}


BUILTINS: dict[str, Builtin] = _table(
    ("string", "v", 1, 1, core.fn_string),
    ("number", "v", 1, 1, core.fn_number),
    ("int", "v", 1, 1, core.fn_int),
    ("bool", "v", 1, 1, core.fn_bool),
    ("type_of", "v", 1, 1, core.fn_type_of),
    ("length", "v", 1, 1, core.fn_length),
    ("keys", "obj", 1, 1, core.fn_keys),
    ("values", "obj", 1, 1, core.fn_values),
    ("abs", "n", 1, 1, core.fn_abs),
    ("floor", "n", 1, 1, core.fn_floor),
    ("ceil", "n", 1, 1, core.fn_ceil),
    ("round", "n", 1, 1, core.fn_round),
    ("min", "a, b", 2, 2, core.fn_min),
    ("max", "a, b", 2, 2, core.fn_max),
    ("sum", "arr", 1, 1, core.fn_sum),
    ("lower", "s", 1, 1, text.fn_lower),
    ("upper", "s", 1, 1, text.fn_upper),
    ("trim", "s", 1, 1, text.fn_trim),
    ("split", "s, sep", 2, 2, text.fn_split),
    ("join", "arr, sep", 2, 2, text.fn_join),
    ("replace", "s, old, new", 3, 3, text.fn_replace),
    ("starts_with", "s, prefix", 2, 2, text.fn_starts_with),
    ("ends_with", "s, suffix", 2, 2, text.fn_ends_with),
    ("match", "pattern, s", 2, 2, text.fn_match),
    ("contains", "haystack, needle", 2, 2, lists.fn_contains),
    ("reversed", "v", 1, 1, lists.fn_reversed),
    ("sort", "arr", 1, 1, lists.fn_sort),
    ("unique", "arr", 1, 1, lists.fn_unique),
    ("flat", "arr", 1, 1, lists.fn_flat),
    ("zip", "a, b", 2, 2, lists.fn_zip),
    ("range", "n | start, end", 1, 2, lists.fn_range),
    ("slice", "v, start, end", 2, 3, lists.fn_slice),
    ("index_of", "haystack, needle", 2, 2, lists.fn_index_of),
    ("count", "haystack, needle", 2, 2, lists.fn_count),
    ("merge", "obj_a, obj_b", 2, 2, lists.fn_merge),
    ("chunks", "arr, size", 2, 2, lists.fn_chunks),
)

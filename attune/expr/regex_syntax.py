"""Parse a regular expression (the Rust `regex` crate dialect, which the original
engine used) into a small tree for `attune.expr.regex` to compile.

Supported: literals, `.`, classes `[a-z\\d]` / `[^...]`, `\\d \\D \\w \\W \\s \\S`,
anchors `^ $ \\A \\z \\b \\B`, groups `(...)`, `(?:...)`, `(?P<n>...)`, `(?<n>...)`,
alternation `|`, quantifiers `* + ? {n} {n,} {n,m}` (lazy `?` suffix accepted),
flags `(?imsUu)` / `(?i:...)`, escapes `\\n \\t \\r \\f \\v \\xHH \\x{H..} \\u{H..}`.
Not supported, as in Rust: backreferences and look-around (they need backtracking,
which is what makes regexes exploitable). Also not supported here: `\\p{..}`
Unicode classes, POSIX `[[:alpha:]]` and nested class set operations.
"""

from __future__ import annotations

from dataclasses import dataclass

from attune.expr.errors import ExprValueError

MAX_REPEAT = 1_000

# Tree nodes are tuples: ("char", matcher) ("assert", kind) ("cat", [..])
# ("alt", [..]) ("rep", node, min, max | None) ("empty",)
Tree = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class CharClass:
    """A set of characters: code point ranges plus \\d/\\w/\\s classes (each maybe negated)."""

    ranges: tuple[tuple[int, int], ...]
    classes: tuple[tuple[str, bool], ...]
    negated: bool
    icase: bool

    def _contains(self, ch: str) -> bool:
        code = ord(ch)
        for lo, hi in self.ranges:
            if lo <= code <= hi:
                return True
        return any(class_matches(kind, ch) != neg for kind, neg in self.classes)

    def matches(self, ch: str) -> bool:
        found = self._contains(ch)
        if not found and self.icase:
            for variant in (ch.lower(), ch.upper()):
                if len(variant) == 1 and variant != ch and self._contains(variant):
                    found = True
                    break
        return found != self.negated


def is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def class_matches(kind: str, ch: str) -> bool:
    if kind == "d":
        return ch.isdecimal()
    if kind == "w":
        return is_word(ch)
    return ch.isspace()


ANY = "any"  # `.` with the s flag
ANY_BUT_NEWLINE = "any-nl"
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_ASSERT_ESCAPES = {"b": "word", "B": "not-word", "A": "text-start", "z": "text-end"}


class _RegexParser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def error(self, what: str) -> ExprValueError:
        return ExprValueError(f"invalid regex {self.p!r}: {what} (at pattern offset {self.i})")

    def peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def take(self) -> str:
        ch = self.peek()
        if not ch:
            raise self.error("unexpected end of pattern")
        self.i += 1
        return ch

    def parse(self) -> Tree:
        tree = self.alternation(set(), depth=0)
        if self.i < len(self.p):
            raise self.error("unbalanced ')'")
        return tree

    def alternation(self, flags: set[str], depth: int) -> Tree:
        if depth > 50:
            raise self.error("groups nested too deeply")
        branches: list[Tree] = []
        items: list[Tree] = []
        while True:
            ch = self.peek()
            if ch == "" or ch == ")":
                branches.append(("cat", items))
                break
            if ch == "|":
                self.i += 1
                branches.append(("cat", items))
                items = []
                continue
            atom = self.atom(flags, depth)
            if atom is not None:
                items.append(self.quantified(atom))
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def quantified(self, atom: Tree) -> Tree:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.i += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        elif ch == "{":
            low, high = self.counted()
        else:
            return atom
        if atom[0] in ("assert", "empty"):
            raise self.error("nothing to repeat")
        if self.peek() == "?":
            self.i += 1  # lazy: same answer for a yes/no search
        if self.peek() in ("*", "+", "?", "{"):
            raise self.error("nested quantifier (wrap the repeated part in a group)")
        return ("rep", atom, low, high)

    def counted(self) -> tuple[int, int | None]:
        self.i += 1
        low = self.number()
        high: int | None = low
        if self.peek() == ",":
            self.i += 1
            high = None if self.peek() == "}" else self.number()
        if self.take() != "}":
            raise self.error("expected '}' to close the repetition")
        if high is not None and high < low:
            raise self.error("repetition range is reversed")
        if low > MAX_REPEAT or (high or 0) > MAX_REPEAT:
            raise self.error(f"repetition count above {MAX_REPEAT}")
        return low, high

    def number(self) -> int:
        start = self.i
        while self.peek().isascii() and self.peek().isdigit():
            self.i += 1
        if start == self.i or self.i - start > 6:
            raise self.error("expected a repetition count")
        return int(self.p[start:self.i])

    def atom(self, flags: set[str], depth: int) -> Tree | None:
        ch = self.take()
        if ch == "(":
            return self.group(flags, depth)
        if ch == "[":
            return ("char", self.char_class(flags))
        if ch == ".":
            return ("char", ANY if "s" in flags else ANY_BUT_NEWLINE)
        if ch == "^":
            return ("assert", "line-start" if "m" in flags else "text-start")
        if ch == "$":
            return ("assert", "line-end" if "m" in flags else "text-end")
        if ch in "*+?{":
            raise self.error(f"nothing to repeat before '{ch}'")
        if ch == "\\":
            return self.escape(flags)
        return ("char", self.literal(ch, flags))

    def literal(self, ch: str, flags: set[str]) -> object:
        if "i" in flags and ch.lower() != ch.upper():
            return CharClass(((ord(ch), ord(ch)),), (), False, True)
        return ch

    def group(self, flags: set[str], depth: int) -> Tree | None:
        inner = set(flags)
        if self.peek() == "?":
            self.i += 1
            ch = self.peek()
            if ch in ("=", "!") or self.p.startswith(("<=", "<!"), self.i):
                raise self.error("look-around is not supported")
            if ch == "P" or (ch == "<"):
                self.i += 1 if ch == "<" else 2
                if ch == "P" and self.p[self.i - 1] != "<":
                    raise self.error("expected '<' after '(?P'")
                end = self.p.find(">", self.i)
                if end < 0:
                    raise self.error("unterminated group name")
                self.i = end + 1
            else:
                on = True
                while (ch := self.take()) not in (")", ":"):
                    if ch == "-":
                        on = False
                    elif ch in "imsUu":
                        (inner.add if on else inner.discard)(ch)
                    else:
                        raise self.error(f"unknown flag {ch!r}")
                if ch == ")":  # (?i) sets flags for the rest of the enclosing group
                    flags.clear()
                    flags.update(inner)
                    return None
        tree = self.alternation(inner, depth + 1)
        if self.peek() != ")":
            raise self.error("missing ')'")
        self.i += 1
        return tree

    def escape(self, flags: set[str]) -> Tree:
        ch = self.take()
        if ch in "dws":
            return ("char", CharClass((), ((ch, False),), False, False))
        if ch in "DWS":
            return ("char", CharClass((), ((ch.lower(), True),), False, False))
        if ch in _ASSERT_ESCAPES:
            return ("assert", _ASSERT_ESCAPES[ch])
        return ("char", self.literal(self.escaped_char(ch), flags))

    def escaped_char(self, ch: str) -> str:
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch]
        if ch in ("x", "u"):
            return self.hex_char(2 if ch == "x" else 4)
        if ch.isascii() and ch.isalnum():
            if ch.isdigit():
                raise self.error("backreferences are not supported")
            raise self.error(f"unsupported escape '\\{ch}'")
        return ch

    def hex_char(self, width: int) -> str:
        if self.peek() == "{":
            end = self.p.find("}", self.i)
            digits = self.p[self.i + 1:end] if end > 0 else ""
            self.i = end + 1 if end > 0 else self.i
        else:
            digits = self.p[self.i:self.i + width]
            self.i += width
        try:
            code = int(digits, 16)
            if not digits.isascii() or len(digits) > 8:
                raise ValueError(digits)
            return chr(code)
        except (ValueError, OverflowError):
            raise self.error("invalid hexadecimal escape") from None

    def char_class(self, flags: set[str]) -> CharClass:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[int, int]] = []
        classes: list[tuple[str, bool]] = []
        first = True
        while True:
            ch = self.take()
            if ch == "]" and not first:
                break
            first = False
            if ch == "[":
                raise self.error("nested classes and [[:name:]] are not supported; "
                                 "escape '[' as '\\['")
            if ch in "&~-" and self.peek() == ch and self.p[self.i + 1:self.i + 2] != "]":
                raise self.error("class set operations are not supported")
            if ch == "\\":
                esc = self.take()
                if esc in "dwsDWS":
                    classes.append((esc.lower(), esc.isupper()))
                    continue
                ch = self.escaped_char(esc)
            low = ord(ch)
            if self.peek() == "-" and self.p[self.i + 1:self.i + 2] not in ("]", ""):
                self.i += 1
                end = self.take()
                if end == "\\":
                    end = self.escaped_char(self.take())
                if ord(end) < low:
                    raise self.error("class range is reversed")
                ranges.append((low, ord(end)))
            else:
                ranges.append((low, low))
        return CharClass(tuple(ranges), tuple(classes), negated, "i" in flags)


def parse_regex(pattern: str) -> Tree:
    return _RegexParser(pattern).parse()

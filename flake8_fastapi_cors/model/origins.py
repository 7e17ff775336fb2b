"""Facts about origin strings and origin regexes, as Starlette matches them.

A browser sends `Origin: scheme://host[:port]`, lower-case, without the
default port, path or trailing slash; `allow_origins` is compared with `in`
(exact, case-sensitive) and `allow_origin_regex` with `re.fullmatch`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterator, List, Optional, Tuple

DEFAULT_PORTS = {"https": "443", "http": "80"}
# Hosts with nothing in common: a regex matching all of them matches any site.
UNRELATED_ORIGINS = ("https://attacker-site.example", "https://evil.test", "https://xn--80ak6aa92e.com")


@dataclass(frozen=True)
class OriginProblem:
    reasons: Tuple[str, ...]
    fixed: Optional[str]  # the normalised origin when the intent is unambiguous
    suggested_regex: Optional[str] = None


def origin_problem(text: str) -> Optional[OriginProblem]:
    """Why `text` can never equal a browser's Origin header, or None."""
    if text in ("*", "null", ""):
        return None
    reasons: List[str] = []
    fixable = True
    value = text
    if value != value.strip():
        reasons.append("surrounding whitespace")
        value = value.strip()
    if "*" in value:
        return OriginProblem(
            tuple(reasons) + ("a glob pattern (`*` is only special on its own)",), None, glob_to_regex(value)
        )
    if "," in value:
        return OriginProblem(tuple(reasons) + ("several origins in one string",), None)
    if "://" not in value:
        return OriginProblem(tuple(reasons) + ("no scheme",), None)
    scheme, rest = value.split("://", 1)
    host, sep, path = rest.partition("/")
    for mark in ("?", "#"):
        if mark in host:
            host, _, tail = host.partition(mark)
            path, sep = mark + tail + path, "/"
    if sep:
        if path == "" and rest.endswith("/") and rest.count("/") == 1:
            reasons.append("a trailing slash")
        else:
            reasons.append("a path")
            fixable = False
    if value != value.lower():
        reasons.append("upper-case letters")
        scheme, host = scheme.lower(), host.lower()
    port = DEFAULT_PORTS.get(scheme)
    if port and host.endswith(":" + port):
        reasons.append(f"the default port :{port} written out")
        host = host[: -len(port) - 1]
    if not reasons:
        return None
    return OriginProblem(tuple(reasons), f"{scheme}://{host}" if fixable else None)


def glob_to_regex(origin: str) -> str:
    """`https://*.example.com` -> `https://[a-z0-9-]+\\.example\\.com`."""
    out = []
    value = origin.strip()
    after_host = False
    for index, char in enumerate(value):
        if char == "*":
            previous = value[index - 1] if index else ""
            out.append(r"\d+" if previous == ":" and after_host else "[a-z0-9-]+")
        else:
            if char == ":" and value[index : index + 3] != "://":
                after_host = True
            out.append(re.escape(char) if char not in "/:" else char)
    return "".join(out)


def matches_every_origin(pattern: str) -> bool:
    """Does `re.fullmatch(pattern, origin)` hold for unrelated sites?"""
    try:
        compiled = re.compile(pattern)
    except (re.error, TypeError, OverflowError, RecursionError):
        return False
    return all(compiled.fullmatch(o) for o in UNRELATED_ORIGINS[:2])


# -- regex host analysis ----------------------------------------------------

_DOT_CAPABLE_ESCAPES = frozenset("SWD")


@dataclass(frozen=True)
class _Token:
    kind: str  # lit | any | class | quant | open | close | alt | anchor | escclass
    text: str
    dotty: bool = False  # can match "."
    start: int = 0  # where it is written in the pattern
    end: int = 0


def _tokens(pattern: str) -> List[_Token]:
    tokens: List[_Token] = []
    i = 0
    n = len(pattern)
    while i < n:
        start = i
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e.isalpha() and e in "dDsSwWbBAZ":
                kind = "anchor" if e in "bBAZ" else "escclass"
                tokens.append(_Token(kind, "\\" + e, e in _DOT_CAPABLE_ESCAPES))
            else:
                tokens.append(_Token("lit", e))
            i += 2
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            body = pattern[i + 1 : j]
            if body.startswith("^"):
                dotty = "." not in body  # a negated class matches "." unless it lists it
            else:
                dotty = "." in body or "\\S" in body or "\\W" in body
            tokens.append(_Token("class", pattern[i : j + 1], dotty))
            i = j + 1
        elif c in "*+?":
            tokens.append(_Token("quant", c))
            i += 1
        elif c == "{":
            j = pattern.find("}", i)
            if j == -1:
                tokens.append(_Token("lit", c))
                i += 1
            else:
                tokens.append(_Token("quant", pattern[i : j + 1]))
                i = j + 1
        elif c == "(":
            j = i + 1
            if pattern.startswith("?:", j) or pattern.startswith("?=", j) or pattern.startswith("?!", j):
                j += 2
            elif pattern.startswith("?P<", j):
                j = pattern.find(">", j) + 1 or j
            tokens.append(_Token("open", "("))
            i = j
        elif c == ")":
            tokens.append(_Token("close", ")"))
            i += 1
        elif c == "|":
            tokens.append(_Token("alt", "|"))
            i += 1
        elif c in "^$":
            tokens.append(_Token("anchor", c))
            i += 1
        elif c == ".":
            tokens.append(_Token("any", ".", True))
            i += 1
        else:
            tokens.append(_Token("lit", c))
            i += 1
        tokens[-1] = replace(tokens[-1], start=start, end=i)
    return tokens


def _repeats(quant: str) -> bool:
    """`*`, `+`, `{n,}` and `{m,n}` with n > 1 repeat; `?` does not."""
    if quant in ("*", "+"):
        return True
    if quant.startswith("{"):
        body = quant[1:-1]
        if "," in body:
            high = body.split(",", 1)[1].strip()
            return high == "" or (high.isdigit() and int(high) > 1)
        return body.strip().isdigit() and int(body) > 1
    return False


def permissive_regex(pattern: str) -> List[str]:
    """What in the host part of an origin regex lets other sites match:
    an unescaped `.`, or a repeated wildcard (`.*`, `.+`, `[^/]+`) that is
    not followed by a literal `\\.` (so `https://.*example\\.com` matches
    `https://evilexample.com`). Anchors are not needed: Starlette uses fullmatch."""
    return [problem for problem, *_ in _host_holes(pattern)]


# a wildcard before a domain stands for whole subdomain labels; one at the end for a port
LABELS = r"(?:[a-z0-9-]+\.)*"
PORT = r"(?::[0-9]+)?"


def narrowed_regex(pattern: str) -> Optional[str]:
    """FAC105's rewrite: unescaped dots in the host escaped, a wildcard before a
    domain turned into subdomain labels, a trailing one into an optional port.
    None when the result would still match other sites or does not compile."""
    edits = []
    for _, start, end, follower in _host_holes(pattern):
        if end - start == 1 and pattern[start] == ".":
            edits.append((start, end, r"\."))
        elif follower is not None and follower.kind == "lit" and follower.text not in (":", "/", "."):
            edits.append((start, end, LABELS))
        elif follower is None or follower.kind == "anchor":
            edits.append((start, end, PORT))
        else:
            return None
    narrowed = pattern
    for start, end, text in sorted(edits, reverse=True):
        narrowed = narrowed[:start] + text + narrowed[end:]
    try:
        re.compile(narrowed)
    except re.error:
        return None
    if narrowed == pattern or permissive_regex(narrowed) or matches_every_origin(narrowed):
        return None
    return narrowed


def _host_holes(pattern: str) -> Iterator[Tuple[str, int, int, Optional[_Token]]]:
    """(problem, start, end, next token) for each hole in the host part."""
    tokens = _tokens(pattern)
    has_scheme = "://" in pattern or ":\\/\\/" in pattern
    in_host = not has_scheme
    depth = 0
    recent: List[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "open":
            depth += 1
        elif tok.kind == "close":
            depth = max(0, depth - 1)
        elif tok.kind == "alt" and depth == 0:
            in_host = not has_scheme
            recent = []
        elif tok.kind == "lit":
            recent = (recent + [tok.text])[-3:]
            if not in_host and recent == [":", "/", "/"]:
                in_host = True
            elif in_host and tok.text in (":", "/", "?", "#"):
                in_host = False
        elif in_host and tok.kind in ("any", "class", "escclass") and tok.dotty:
            quant = tokens[i + 1].text if i + 1 < len(tokens) and tokens[i + 1].kind == "quant" else ""
            j = i + (2 if quant else 1)
            if j < len(tokens) and tokens[j].kind == "quant" and tokens[j].text == "?":
                j += 1  # lazy quantifier
            follower = tokens[j] if j < len(tokens) else None
            if _repeats(quant):
                if not (follower is not None and follower.kind == "lit" and follower.text == "."):
                    problem = (
                        f"`{tok.text + quant}` in the host is not followed by `\\.`, so it also matches other domains"
                    )
                    yield problem, tok.start, tokens[j - 1].end, follower
            elif tok.kind == "any":
                yield "an unescaped `.` in the host matches any character", tok.start, tok.end, follower
            i = j
            continue
        i += 1

#!/usr/bin/env python3
"""The shape of the code base, held by CI (.ci/run, after clippy).

Bounds (each printed with its figures; exit 1 listing every one that fails):

1. Every HTTP handler in src/api (a function carrying an actix route
   attribute #[get/post/put/patch/delete(...)]) has a body of at most
   HANDLER_MAX lines: the lines strictly between the line of the body's
   opening `{` and the line of its closing `}`. The five longest are printed.
2. src/api has no more lines than src/workflows and src/domain together
   (db, events and notify are printed beside them).
3. src/api never mentions diesel: storage is the workflows' business.
4. No `audit::append(` call outside src/events/ and src/db/audit.rs: the
   event mechanism is the only way into an audit chain.
5. No `webhooks::emit` or `notify::enqueue` call outside src/events/ and
   src/notify/: webhooks and mail are effects of recorded events.

Python 3 standard library only. Run from anywhere: paths are relative to the
repository root (this file's parent's parent).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HANDLER_MAX = 30
ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
ROUTE = re.compile(r"^\s*#\[(get|post|put|patch|delete)\(")
FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def rust_files(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*.rs") if p.is_file())


def rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def line_count(d: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in rust_files(d))


def code_only(text: str) -> str:
    """`text` with comments, string and char literals blanked (newlines
    kept, so offsets map to the same lines)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 260]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = len(re.match(r"r(#*)", text[i:]).group(1))
            end = '"' + "#" * hashes
            j = text.find(end, i + 2 + hashes)
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:i + 12])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def handler_bodies() -> list[tuple[int, str]]:
    """(body lines, "path:line fn name") of every route handler in src/api."""
    found = []
    for path in rust_files(SRC / "api"):
        code = code_only(path.read_text(encoding="utf-8"))
        lines = code.split("\n")
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        for idx, line in enumerate(lines):
            if not ROUTE.match(line):
                continue
            fn = FN.search(code, starts[idx])
            if not fn:
                continue
            # The body opens at the first `{` outside the signature's
            # parentheses, brackets and generics' angle brackets.
            depth, i = 0, fn.end()
            while i < len(code):
                ch = code[i]
                if ch in "([":
                    depth += 1
                elif ch in ")]":
                    depth -= 1
                elif ch == "{" and depth == 0:
                    break
                i += 1
            open_at, braces = i, 0
            while i < len(code):
                if code[i] == "{":
                    braces += 1
                elif code[i] == "}":
                    braces -= 1
                    if braces == 0:
                        break
                i += 1
            open_line = code.count("\n", 0, open_at)
            close_line = code.count("\n", 0, i)
            body = max(close_line - open_line - 1, 0)
            found.append((body, f"{rel(path)}:{idx + 1} {fn.group(1)}"))
    return found


def calls(patterns: list[str], allowed: list[str]) -> list[str]:
    """Lines of src/ (comments and strings aside) containing any of
    `patterns`, outside the `allowed` path prefixes."""
    hits = []
    for path in rust_files(SRC):
        r = rel(path)
        if any(r.startswith(a) for a in allowed):
            continue
        text = path.read_text(encoding="utf-8")
        shown = text.split("\n")
        for no, line in enumerate(code_only(text).split("\n"), 1):
            if any(p in line for p in patterns):
                hits.append(f"{r}:{no}: {shown[no - 1].strip()}")
    return hits


def main() -> int:
    failures: list[str] = []

    print(f"1. handler bodies in src/api (bound: {HANDLER_MAX} lines)")
    bodies = sorted(handler_bodies(), key=lambda b: (-b[0], b[1]))
    for body, where in bodies[:5]:
        print(f"   {body:4d}  {where}")
    print(f"   {len(bodies)} handlers")
    over = [f"{where}: {body} lines" for body, where in bodies if body > HANDLER_MAX]
    if over:
        failures.append(f"handler bodies over {HANDLER_MAX} lines ({len(over)}):")
        failures.extend(f"   {o}" for o in over)

    print("2. lines of code (src/api <= src/workflows + src/domain)")
    sizes = {d: line_count(SRC / d) for d in ("api", "workflows", "domain", "db", "events", "notify")}
    for d, n in sizes.items():
        print(f"   {n:6d}  src/{d}")
    flows = sizes["workflows"] + sizes["domain"]
    print(f"   {flows:6d}  src/workflows + src/domain")
    if sizes["api"] > flows:
        failures.append(f"src/api has {sizes['api']} lines, more than src/workflows + src/domain ({flows})")

    print("3. diesel mentions in src/api (bound: 0)")
    diesel = []
    for path in rust_files(SRC / "api"):
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "diesel" in line:
                diesel.append(f"{rel(path)}:{no}: {line.strip()}")
    print(f"   {len(diesel)}")
    if diesel:
        failures.append(f"diesel mentioned in src/api ({len(diesel)}):")
        failures.extend(f"   {d}" for d in diesel)

    print("4. audit::append( calls outside src/events/ and src/db/audit.rs (bound: 0)")
    appends = calls(["audit::append("], ["src/events/", "src/db/audit.rs"])
    print(f"   {len(appends)}")
    if appends:
        failures.append(f"audit appends outside the event mechanism ({len(appends)}):")
        failures.extend(f"   {a}" for a in appends)

    print("5. webhooks::emit / notify::enqueue calls outside src/events/ and src/notify/ (bound: 0)")
    effects = calls(["webhooks::emit", "notify::enqueue"], ["src/events/", "src/notify/"])
    print(f"   {len(effects)}")
    if effects:
        failures.append(f"webhooks or mail queued outside the event mechanism ({len(effects)}):")
        failures.extend(f"   {e}" for e in effects)

    if failures:
        print("\nshape: FAILED")
        for f in failures:
            print(f"  {f}" if not f.startswith("   ") else f)
        return 1
    print("\nshape: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

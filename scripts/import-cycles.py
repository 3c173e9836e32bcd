#!/usr/bin/env python3
"""Fails when the files of a Rust crate import each other in a loop.

A crate is every directory of the workspace (the root, its `members`, and any `*/` or
`*/*/` directory) with a Cargo.toml and a `src/lib.rs`, `src/main.rs` or `src/bin/`.
Its files are the modules its roots declare (`mod x;`, `#[path]` honoured); a module
declared under `#[cfg(test)]` (a `tests.rs` beside the code) is left out with all it
declares, while an inline `#[cfg(test)] mod tests { ... }` belongs to its file. A file
that no root declares is not compiled and is named in a note.

An edge A -> B means code in A names a path into B:
  - a `use` of `crate::`, `self::` or `super::` (groups `use crate::{a::B, c::{d, e}}`
    over several lines included, re-exports too), or of the library's own name
    (`api::`, `web::`) in a binary of the same package;
  - such a path written in the code itself (`crate::format::money(..)`, `super::X`),
    and a path through a module that a `use` brought in (`use crate::ledger;` then
    `ledger::transfers::post(..)`).
A path reaches the deepest module that has a file of its own (`crate::a::b::Thing` is
`a/b.rs` when it exists, else `a.rs` or `a/mod.rs`); where a module only re-exports a
name (`pub use money::Money;` in `ledger/mod.rs`), the path goes on to the file that
defines it. `mod x;` is no edge (a parent owning a child), nor is a child's name used
from its parent (`transfer::confirm` in `pages/mod.rs`), nor a file's use of itself.
`lib.rs` and `main.rs` are separate roots: `crate::` in a binary means the binary's own
modules. Comments, strings and character literals are skipped.

Prints every cycle with the line that makes each of its edges and exits 1; else prints
the files and edges of each crate and exits 0. `--self-test` checks the checker on two
small crates it writes to a temporary directory. `--root DIR` checks another tree;
`--edges` lists every edge with the line that makes it.
"""

import argparse
import re
import sys
import tempfile
from pathlib import Path

SKIP_DIRS = {"target", "node_modules"}


# --------------------------------------------------------------------------- lexing


class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind = kind  # "id" or "p" (punctuation; "::" is one token)
        self.text = text
        self.line = line

    def __repr__(self):
        return f"{self.text}@{self.line}"


IDENT_START = re.compile(r"[A-Za-z_]")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RAW_STRING = re.compile(r'(?:b|c)?r(#*)"')


def lex(src):
    """Identifiers and punctuation of Rust source; comments and literals dropped."""
    toks = []
    i, n, line = 0, len(src), 1
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    line += src[i] == "\n"
                    i += 1
        elif c in "brc" and RAW_STRING.match(src, i):
            m = RAW_STRING.match(src, i)
            end = src.find('"' + m.group(1), m.end())
            end = n if end < 0 else end + 1 + len(m.group(1))
            line += src.count("\n", i, end)
            i = end
        elif c == '"' or (c in "bc" and src.startswith('"', i + 1)):
            i += 1 if c == '"' else 2
            while i < n and src[i] != '"':
                if src[i] == "\\":
                    i += 1
                line += i < n and src[i] == "\n"
                i += 1
            i += 1
        elif c == "'" or (c == "b" and src.startswith("'", i + 1)):
            j = i + (1 if c == "'" else 2)
            if src.startswith("\\", j):  # '\n', '\'', '\u{..}'
                k = src.find("'", j + 2)
                i = n if k < 0 else k + 1
            elif j + 1 < n and src[j + 1] == "'":  # 'x'
                i = j + 2
            else:  # a lifetime or a label: 'a
                m = IDENT.match(src, j)
                i = m.end() if m else j
        elif IDENT_START.match(c):
            m = IDENT.match(src, i)
            text = m.group()
            if text == "r" and src.startswith("#", m.end()):  # r#ident
                m2 = IDENT.match(src, m.end() + 1)
                if m2:
                    toks.append(Tok("id", m2.group(), line))
                    i = m2.end()
                    continue
            toks.append(Tok("id", text, line))
            i = m.end()
        elif c.isdigit():
            i += 1
            while i < n and (src[i].isalnum() or src[i] == "_" or
                             (src[i] == "." and i + 1 < n and src[i + 1].isdigit())):
                i += 1
        elif src.startswith("::", i):
            toks.append(Tok("p", "::", line))
            i += 2
        else:
            toks.append(Tok("p", c, line))
            i += 1
    return toks


# --------------------------------------------------------------------------- parsing


class UseItem:
    """One leaf of a `use` tree: `use a::{b::C as D}` gives path [a, b, C], name D."""

    __slots__ = ("path", "name", "glob", "line", "stmt", "scope")

    def __init__(self, path, name, glob, line, stmt, scope):
        self.path, self.name, self.glob = path, name, glob
        self.line, self.stmt, self.scope = line, stmt, scope


class CodePath:
    __slots__ = ("path", "line", "scope")

    def __init__(self, path, line, scope):
        self.path, self.line, self.scope = path, line, scope


class ModDecl:
    __slots__ = ("name", "scope", "test_only", "path_attr")

    def __init__(self, name, scope, test_only, path_attr):
        self.name, self.scope = name, scope
        self.test_only, self.path_attr = test_only, path_attr


class ParsedFile:
    def __init__(self):
        self.mods = []  # ModDecl: `mod x;`
        self.inline = []  # scopes (tuples, relative to the file) of `mod x { ... }`
        self.uses = []  # UseItem
        self.paths = []  # CodePath


def preceding_attrs(toks, i):
    """The outer attributes before token i (skipping a visibility), as token texts."""
    j = i - 1
    if j >= 0 and toks[j].text == ")":
        depth = 0
        while j >= 0:
            depth += {")": 1, "(": -1}.get(toks[j].text, 0)
            j -= 1
            if depth == 0:
                break
    if j >= 0 and toks[j].text == "pub":
        j -= 1
    attrs = []
    while j >= 1 and toks[j].text == "]":
        depth, k = 0, j
        while k >= 0:
            depth += {"]": 1, "[": -1}.get(toks[k].text, 0)
            if depth == 0:
                break
            k -= 1
        if k < 1 or toks[k - 1].text != "#":
            break
        attrs.append([t.text for t in toks[k + 1:j]])
        j = k - 2
    return attrs


def is_test_only(attrs):
    for a in attrs:
        if a == ["cfg", "(", "test", ")"]:
            return True
        if a[:4] == ["cfg", "(", "all", "("] and "test" in a and "not" not in a and "any" not in a:
            return True
    return False


PATH_ATTR = re.compile(r'#\[\s*path\s*=\s*"([^"]+)"\s*\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;')


def parse(src):
    toks = lex(src)
    lines = src.splitlines()
    out = ParsedFile()
    path_attrs = {m.group(2): m.group(1) for m in PATH_ATTR.finditer(src)}
    scope = []  # names of the inline modules we are in
    frames = []  # for each open brace: True if it opened an inline module
    n = len(toks)
    i = 0
    while i < n:
        t = toks[i]
        if t.text == "{":
            opened = (i >= 2 and toks[i - 2].text == "mod" and toks[i - 1].kind == "id")
            if opened:
                scope.append(toks[i - 1].text)
                out.inline.append(tuple(scope))
            frames.append(opened)
        elif t.text == "}":
            if frames and frames.pop():
                scope.pop()
        elif t.text == "mod" and i + 2 < n and toks[i + 1].kind == "id" and toks[i + 2].text == ";":
            attrs = preceding_attrs(toks, i)
            name = toks[i + 1].text
            out.mods.append(ModDecl(name, tuple(scope), is_test_only(attrs),
                                    path_attrs.get(name) if not scope else None))
        elif t.text == "use" and t.kind == "id" and i + 1 < n and toks[i + 1].text != "<":
            j = i + 1
            while j < n and toks[j].text != ";":
                j += 1
            # The statement as one line, for the report: `use super::{a::Ay, c};`.
            last = toks[j - 1].line if j > i + 1 else t.line
            stmt = " ".join(line.strip() for line in lines[t.line - 1:last])
            stmt = re.sub(r"\s+", " ", stmt).replace("{ ", "{").replace(" }", "}")
            if len(stmt) > 140:
                stmt = stmt[:137] + "..."
            for path, name, glob, line in use_tree(toks[i + 1:j]):
                out.uses.append(UseItem(path, name, glob, line, stmt, tuple(scope)))
            i = j
        elif (t.kind == "id" and i + 2 < n and toks[i + 1].text == "::"
              and toks[i + 2].kind == "id" and (i == 0 or toks[i - 1].text != "::")):
            path, j = [t.text], i
            while j + 2 < n and toks[j + 1].text == "::" and toks[j + 2].kind == "id":
                path.append(toks[j + 2].text)
                j += 2
            out.paths.append(CodePath(path, t.line, tuple(scope)))
            i = j
        i += 1
    return out


def use_tree(toks):
    """The leaves of a use tree: (path, bound name or None, is glob, line)."""
    leaves = []

    def tree(k, prefix):
        if k < len(toks) and toks[k].text == "::":  # `use ::std::x` (extern)
            prefix, k = prefix + ["::"], k + 1
        path = list(prefix)
        while k < len(toks):
            t = toks[k]
            if t.text == "{":
                k += 1
                while k < len(toks) and toks[k].text != "}":
                    k = tree(k, path)
                    if k < len(toks) and toks[k].text == ",":
                        k += 1
                return k + 1
            if t.text == "*":
                leaves.append((path, None, True, t.line))
                return k + 1
            if t.kind == "id" and t.text != "as":
                if not (t.text == "self" and path):  # `a::{self}` names a itself
                    path = path + [t.text]
                line = t.line
                k += 1
                if k < len(toks) and toks[k].text == "::":
                    k += 1
                    continue
                name = path[-1] if path else None
                if k + 1 < len(toks) and toks[k].text == "as":
                    name = toks[k + 1].text if toks[k + 1].text != "_" else None
                    k += 2
                if path:
                    leaves.append((path, name, False, line))
                return k
            k += 1
        return k

    k = 0
    while k < len(toks):
        k = tree(k, [])
        if k < len(toks) and toks[k].text == ",":
            k += 1
    return leaves


# --------------------------------------------------------------------------- crates


def toml_value(text, table, key):
    """A string value from a small Cargo.toml, without a TOML parser (stdlib only)."""
    current = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.match(r"\[\s*([^\]]+?)\s*\]$", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(rf'{re.escape(key)}\s*=\s*"([^"]*)"', line)
        if m and current == table:
            return m.group(1)
    return None


def workspace_members(root):
    toml = root / "Cargo.toml"
    if not toml.exists():
        return []
    m = re.search(r"^\s*members\s*=\s*\[(.*?)\]", toml.read_text(), re.S | re.M)
    if not m:
        return []
    dirs = []
    for pattern in re.findall(r'"([^"]+)"', m.group(1)):
        dirs.extend(p for p in root.glob(pattern) if p.is_dir())
    return dirs


def crate_roots(crate_dir):
    """(root name, file) for the library and each binary of a package."""
    src = crate_dir / "src"
    roots = []
    if (src / "lib.rs").exists():
        roots.append(("lib", src / "lib.rs"))
    if (src / "main.rs").exists():
        roots.append(("main", src / "main.rs"))
    bin_dir = src / "bin"
    if bin_dir.is_dir():
        for p in sorted(bin_dir.iterdir()):
            if p.suffix == ".rs":
                roots.append((f"bin {p.stem}", p))
            elif (p / "main.rs").exists():
                roots.append((f"bin {p.name}", p / "main.rs"))
    return roots


def discover_crates(root):
    candidates = {root} | set(workspace_members(root))
    for pattern in ("*/Cargo.toml", "*/*/Cargo.toml"):
        for toml in root.glob(pattern):
            rel = toml.relative_to(root).parts
            if any(part in SKIP_DIRS or part.startswith(".") for part in rel):
                continue
            candidates.add(toml.parent)
    crates = []
    for d in sorted(candidates):
        toml = d / "Cargo.toml"
        if not toml.exists():
            continue
        text = toml.read_text()
        name = toml_value(text, "package", "name")
        if name and crate_roots(d):
            lib = toml_value(text, "lib", "name") or name.replace("-", "_")
            crates.append((d, name, lib))
    return crates


# --------------------------------------------------------------------------- the graph


class Module:
    __slots__ = ("file", "uses")

    def __init__(self, file):
        self.file = file
        self.uses = {}  # bound name -> [UseItem]


class Crate:
    """The module trees of one package's roots, and the edges between its files."""

    def __init__(self, crate_dir, name, lib_name):
        self.dir, self.name, self.lib_name = crate_dir, name, lib_name
        self.modules = {}  # root -> {module path tuple: Module}
        self.parsed = {}  # file -> ParsedFile
        self.file_scopes = []  # (root, module path of the file, file)
        self.notes = []
        self.test_only = set()  # files of `#[cfg(test)] mod x;` and below
        for root, file in crate_roots(crate_dir):
            self.modules[root] = {}
            self.load(root, (), file, child_dir=file.parent)
        declared = {f for _, _, f in self.file_scopes}
        for f in sorted((crate_dir / "src").rglob("*.rs")):
            if f not in declared and f not in self.test_only:
                self.notes.append(f"{self.rel(f)} is declared by no module (not compiled): not checked")

    def rel(self, f):
        return f.relative_to(self.dir).as_posix()

    def load(self, root, modpath, file, child_dir):
        if file not in self.parsed:
            self.parsed[file] = parse(file.read_text(encoding="utf-8", errors="replace"))
        parsed = self.parsed[file]
        mods = self.modules[root]
        mods[modpath] = Module(file)
        self.file_scopes.append((root, modpath, file))
        for inline in parsed.inline:
            mods.setdefault(modpath + inline, Module(file))
        for u in parsed.uses:
            if u.name and modpath + u.scope in mods:
                mods[modpath + u.scope].uses.setdefault(u.name, []).append(u)
        for d in parsed.mods:
            base = child_dir.joinpath(*d.scope)
            if d.path_attr:
                candidates = [file.parent / d.path_attr]
            else:
                candidates = [base / f"{d.name}.rs", base / d.name / "mod.rs"]
            found = next((c for c in candidates if c.exists()), None)
            if d.test_only:  # compiled for the crate's own unit tests only
                if found:
                    below = found.parent if found.name == "mod.rs" else found.parent / found.stem
                    self.test_only |= {found} | set(below.rglob("*.rs"))
                continue
            if not found:
                self.notes.append(f"{self.rel(file)}: `mod {d.name};` has no file")
                continue
            grandchild_dir = found.parent if found.name == "mod.rs" or d.path_attr else found.parent / found.stem
            self.load(root, modpath + d.scope + (d.name,), found, grandchild_dir)

    # A path is resolved to (root, module path): the deepest module on it, followed
    # through the `use` items of the modules it passes.

    def start(self, root, scope, path):
        """Where a path starts: (root, module, rest), or None for another crate's path."""
        head = path[0]
        if head == "crate":
            return root, (), path[1:]
        if head == "self":
            return root, scope, path[1:]
        if head == "super":
            base, k = scope, 0
            while k < len(path) and path[k] == "super":
                base, k = base[:-1], k + 1
            return root, base, path[k:]
        if head == self.lib_name and root != "lib" and "lib" in self.modules:
            return "lib", (), path[1:]
        return None

    def walk(self, root, module, rest, depth=0):
        """Goes down `rest` from `module`; returns (root, module, all of rest was modules)."""
        mods = self.modules[root]
        for k, seg in enumerate(rest):
            if module + (seg,) in mods:
                module = module + (seg,)
                continue
            imports = mods[module].uses.get(seg, []) if module in mods else []
            if depth < 16 and imports:
                for u in imports:
                    target = self.resolve(root, module, u.path + rest[k + 1:], depth + 1, relative=True)
                    if target:
                        return target
                return None  # brought in from another crate: no file of this one
            return root, module, False
        return root, module, True

    def resolve(self, root, scope, path, depth=0, relative=False):
        begun = self.start(root, scope, path)
        if begun is None and path and path[0] != "::":
            mods = self.modules[root]
            if relative and scope + (path[0],) in mods:
                begun = root, scope + (path[0],), path[1:]
            elif scope in mods and depth < 16:
                # A name that a `use` of this crate brought in: `use crate::ledger;` then
                # `ledger::transfers::post(..)`. A child's name used from its parent is not.
                for u in mods[scope].uses.get(path[0], []):
                    if self.start(root, scope, u.path) is not None:
                        t = self.resolve(root, scope, u.path + path[1:], depth + 1)
                        if t:
                            return t
                return None
        if begun is None:
            return None
        return self.walk(*begun, depth)

    def file_of(self, root, module):
        mods = self.modules[root]
        while module not in mods and module:
            module = module[:-1]
        return mods[module].file if module in mods else None

    def edges(self):
        """{(from file, to file): (line, text)}, the first line that makes each edge."""
        found = {}
        seen = set()
        for root, modpath, file in self.file_scopes:
            if (root, file) in seen:
                continue
            seen.add((root, file))
            parsed = self.parsed[file]
            lines = None
            for u in parsed.uses:
                if u.glob or u.path[0] in ("crate", "self", "super", self.lib_name):
                    t = self.resolve(root, modpath + u.scope, u.path)
                    if t:
                        self.add(found, file, t, u.line, u.stmt)
            for p in parsed.paths:
                t = self.resolve(root, modpath + p.scope, p.path)
                if t:
                    if lines is None:
                        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
                    text = lines[p.line - 1].strip() if p.line - 1 < len(lines) else "::".join(p.path)
                    self.add(found, file, t, p.line, text)
        return found

    def add(self, found, file, target, line, text):
        to = self.file_of(target[0], target[1])
        if to is None or to == file:
            return
        key = (file, to)
        if key not in found or line < found[key][0]:
            found[key] = (line, text)


def tarjan(nodes, succ):
    """Strongly connected components, iteratively (no recursion limit)."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(succ.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ.get(w, ()))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)
    return comps


def shortest_cycle(start, members, succ):
    """A shortest path start -> ... -> start inside one component (breadth first)."""
    prev = {start: None}
    queue = [start]
    for v in queue:
        for w in sorted(succ.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return [start, start]


def check(root, out=print):
    """Checks every crate under root; returns (cycles, {crate: (files, edges)}, notes)."""
    cycles, sizes, notes = [], {}, []
    for crate_dir, name, lib_name in discover_crates(root):
        crate = Crate(crate_dir, name, lib_name)
        notes.extend(f"{name}: {n}" for n in crate.notes)
        found = crate.edges()
        succ = {}
        for a, b in found:
            succ.setdefault(a, set()).add(b)
        files = sorted({f for _, _, f in crate.file_scopes})
        sizes[name] = (len(files), len(found))
        for comp in tarjan(files, succ):
            if len(comp) < 2:
                continue
            members = set(comp)
            first = min(comp)
            ring = shortest_cycle(first, members, succ)
            cycles.append((name, crate, ring, members, found))
    return cycles, sizes, notes


def list_edges(root):
    for crate_dir, name, lib_name in discover_crates(root):
        crate = Crate(crate_dir, name, lib_name)
        for (a, b), (line, text) in sorted(crate.edges().items()):
            print(f"{name}: {crate.rel(a)} -> {crate.rel(b)}    ({crate.rel(a)}:{line}: {text})")
    return 0


def report(root):
    cycles, sizes, notes = check(root)
    for note in notes:
        print(f"note: {note}")
    if not cycles:
        for name, (files, edges) in sizes.items():
            print(f"{name}: {files} files, {edges} edges, no import cycle")
        return 0
    for name, crate, ring, members, found in cycles:
        print(f"{name}: " + " -> ".join(crate.rel(f) for f in ring))
        for a, b in zip(ring, ring[1:]):
            line, text = found[(a, b)]
            print(f"    {crate.rel(a)}:{line}: {text}")
        rest = sorted(members - set(ring))
        if rest:
            print(f"    (the same knot also holds {', '.join(crate.rel(f) for f in rest)})")
    print(f"{len(cycles)} import cycle(s): a file may not reach itself through its imports; "
          "move what both sides need into a module both can import")
    return 1


# --------------------------------------------------------------------------- self-test


def write(base, files):
    for rel, text in files.items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root, {
            "Cargo.toml": '[workspace]\nmembers = ["looped"]\n',
            # A cycle: a.rs -> b.rs through a grouped `use crate::`, b.rs -> a.rs through
            # a grouped `use super::` over several lines.
            "looped/Cargo.toml": '[package]\nname = "looped"\n',
            "looped/src/lib.rs": "pub mod a;\npub mod b;\npub mod c;\n",
            "looped/src/a.rs": "use crate::{b::Bee, c};\npub struct Ay;\n",
            "looped/src/b.rs": "use super::{\n    a::Ay,\n    c::{self, Sea},\n};\npub struct Bee;\n",
            "looped/src/c.rs": "pub struct Sea;\n",
            # No cycle, though comments, strings, test modules and a binary say otherwise.
            "straight/Cargo.toml": '[package]\nname = "straight-crate"\n',
            "straight/src/lib.rs": "pub mod x;\npub mod y;\npub use y::Why;\n",
            "straight/src/x.rs": (
                "use crate::y::Why;\n"
                "use crate::y::more::M; // more is test-only: this reaches y.rs\n"
                "pub fn x<'a>(s: &'a str) -> char { let _ = crate::Why; '{' }\n"
            ),
            "straight/src/y.rs": (
                "// use crate::x::X;\n"
                "/* use crate::x; /* nested */ crate::x::X */\n"
                'const S: &str = "use crate::x::X; super::x";\n'
                'const R: &str = r#"crate::x::X "quoted" "#;\n'
                "const C: char = '\\'';\n"
                "pub struct Why;\n"
                "#[cfg(test)]\nmod more;\n"
                "#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::y::Why;\n}\n"
            ),
            "straight/src/y/more.rs": "use crate::x::x;\npub struct M;\n",
            "straight/src/main.rs": "mod cli;\nuse straight_crate::x::x;\nfn main() { cli::run(); }\nstruct Args;\n",
            "straight/src/cli.rs": "use crate::Args;\npub fn run() { let _ = straight_crate::Why; }\n",
        })
        cycles, sizes, notes = check(root)
        got = [(name, sorted(crate.rel(f) for f in members)) for name, crate, _, members, _ in cycles]
        want = [("looped", ["src/a.rs", "src/b.rs"])]
        assert got == want, f"cycles: {got}, want {want}"
        assert not notes, notes
        straight = Crate(root / "straight", "straight-crate", "straight_crate")
        edges = {(straight.rel(a), straight.rel(b)) for a, b in straight.edges()}
        want_edges = {
            ("src/x.rs", "src/y.rs"),  # use crate::y::Why; crate::Why (re-exported by lib.rs)
            ("src/main.rs", "src/x.rs"),  # the library's name in its binary
            ("src/cli.rs", "src/main.rs"),  # crate:: in a binary is the binary's own root
            ("src/cli.rs", "src/y.rs"),  # straight_crate::Why, through lib.rs's re-export
        }
        assert edges == want_edges, f"edges: {sorted(edges)}, want {sorted(want_edges)}"
        assert sizes["straight-crate"] == (5, 4), sizes
    print("import-cycles self-test: passed")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true", help="check the checker and exit")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the workspace to check (default: this repository)")
    parser.add_argument("--edges", action="store_true", help="list every edge and the line that makes it")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if args.edges:
        return list_edges(args.root.resolve())
    return report(args.root.resolve())


if __name__ == "__main__":
    sys.exit(main())

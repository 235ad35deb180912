#!/usr/bin/python3
"""Mutation testing for bulletin's pure modules.

    /usr/bin/python3 tools/mutate.py src/wrap.c [src/utf8.c ...]
    make mutate MUTATE_FILES="src/wrap.c src/utf8.c"
    tools/mutate.py --baseline main src/csv.c   (and before the new tests)
    tools/mutate.py --lines 40-60 -v src/csv.c  (re-check a few mutants)

For each file, every mutant flips one operator occurrence inside a function
body (comments, string and character literals and preprocessor lines are
left alone): == and !=, < and <=, > and >=, + and -, += and -=, && and ||,
++ and --, a decimal 0 and 1 (which also makes "x + 1" plain "x"), a unary
! removed, and a return value negated.  A mutant is compiled in a copy of the
worktree (the worktree itself is never touched, so Ctrl-C is safe), the
module's unit test binary is built and run with a timeout (a hang counts
as killed), and the mutant is:

    killed      the test binary failed, crashed or timed out
    survived    it passed
    equivalent  it passed and tools/mutate-equivalent.txt lists it: no
                test could tell it from the original (judged by reading)
    skipped     it did not compile (not counted)

kill rate = killed / (total - equivalent), total = killed + survived +
equivalent.  Survivors are printed with a key in the allowlist's format.

Allowlist lines (tools/mutate-equivalent.txt), '#' starts a comment:

    src/FILE.c | FUNCTION | COL:OLD->NEW | the source line, stripped | reason

The key does not hold a line number, so it outlives edits elsewhere in
the file; when the line itself changes the mutant must be judged again.
Mutants run in the plain -O0 build, for speed: one whose only effect is
undefined behaviour (a read one past an array) is allowlisted with a
reason that says so, as make unit-asan is what catches it.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOWLIST = os.path.join(ROOT, "tools", "mutate-equivalent.txt")

# The unit tests that exercise each module quickly.
TESTS = {
    "src/address.c": ["test_address"],
    "src/csv.c": ["test_csv"],
    "src/wrap.c": ["test_wrap"],
    "src/utf8.c": ["test_utf8"],
    "src/template.c": ["test_template"],
    "src/mime.c": ["test_mime"],
}

# Files where only some functions are mutated (mime.c: its encoders, not
# the libetpan wrapper).
FUNCTIONS = {
    "src/mime.c": {"base64_encode", "mime_base64_lines", "qp_needs_escape",
                   "qp_char", "mime_qp_encode", "needs_encoding",
                   "mime_header_text"},
}

# ---- lexing ----------------------------------------------------------------

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<char>'(?:\\.|[^'\\\n])*')
  | (?P<number>(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][+-]?\d+)?)[uUlLfF]*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<op>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%<>=!~&|^?:;,.(){}\[\]])
""", re.S | re.X)


class Tok:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind, text, pos):
        self.kind, self.text, self.pos = kind, text, pos


def blank_preprocessor(src):
    """The source with preprocessor lines (and their continuations) blanked,
    so that offsets stay the same."""
    out, in_pp = [], False
    for line in src.splitlines(keepends=True):
        if in_pp or line.lstrip().startswith("#"):
            body = line.rstrip("\n")
            in_pp = body.endswith("\\")
            out.append(re.sub(r"[^\n]", " ", line))
        else:
            out.append(line)
    return "".join(out)


def tokens(src):
    text = blank_preprocessor(src)
    toks, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise SystemExit("mutate: cannot lex at offset %d: %r"
                             % (pos, text[pos:pos + 20]))
        if m.lastgroup not in ("ws", "comment"):
            toks.append(Tok(m.lastgroup, m.group(), pos))
        pos = m.end()
    return toks


def functions(toks):
    """Yields (name, first, last) token index ranges of function bodies:
    a '{' at file level right after a ')' opens one."""
    depth, i = 0, 0
    while i < len(toks):
        t = toks[i]
        if t.text == "{":
            if depth == 0 and i and toks[i - 1].text == ")":
                j, paren = i - 1, 0
                while j >= 0:
                    if toks[j].text == ")":
                        paren += 1
                    elif toks[j].text == "(":
                        paren -= 1
                        if paren == 0:
                            break
                    j -= 1
                name = toks[j - 1].text if j > 0 else "?"
                k, d = i, 0
                while k < len(toks):
                    if toks[k].text == "{":
                        d += 1
                    elif toks[k].text == "}":
                        d -= 1
                        if d == 0:
                            break
                    k += 1
                yield name, i, k
                i = k + 1
                continue
            depth += 1
        elif t.text == "}":
            depth -= 1
        i += 1


# ---- mutants ---------------------------------------------------------------

SWAP = {"==": "!=", "!=": "==", "<": "<=", "<=": "<", ">": ">=", ">=": ">",
        "+": "-", "-": "+", "+=": "-=", "-=": "+=", "&&": "||", "||": "&&",
        "++": "--", "--": "++"}

# After these a + or - is binary; after anything else it is unary.
OPERAND_END = {"ident", "number", "string", "char"}


def binary(toks, i):
    p = toks[i - 1]
    return p.kind in OPERAND_END or p.text in (")", "]")


def mutants_in(src, toks, first, last):
    """Yields (start, end, replacement) edits for the body toks[first..last]."""
    for i in range(first + 1, last):
        t = toks[i]
        if t.kind == "op" and t.text in SWAP:
            if t.text in ("+", "-") and not binary(toks, i):
                continue
            # ("x + 1" -> "x" is the 1 -> 0 flip below: not made twice)
            yield t.pos, t.pos + len(t.text), SWAP[t.text]
        elif t.kind == "op" and t.text == "!":
            yield t.pos, t.pos + 1, ""
        elif t.kind == "number" and t.text in ("0", "1"):
            yield t.pos, t.pos + 1, "1" if t.text == "0" else "0"
        elif (t.kind == "ident" and t.text == "return"
              and toks[i + 1].text != ";"
              and not (toks[i + 1].kind == "number" and toks[i + 2].text == ";")):
            # (a constant return value is flipped as a constant)
            j = i + 1
            while toks[j].text != ";":
                j += 1
            a, b = toks[i + 1].pos, toks[j - 1].pos + len(toks[j - 1].text)
            yield a, b, "!(" + src[a:b] + ")"


class Mutant:
    def __init__(self, path, src, func, start, end, new):
        self.path, self.func = path, func
        self.start, self.end, self.new = start, end, new
        self.line = src.count("\n", 0, start) + 1
        bol = src.rfind("\n", 0, start) + 1
        eol = src.find("\n", start)
        raw = src[bol:eol if eol >= 0 else len(src)]
        self.text = raw.strip()
        col = start - bol - (len(raw) - len(raw.lstrip()))
        old = src[start:end]
        self.desc = "%d:%s->%s" % (col, " ".join(old.split()),
                                   " ".join(new.split()))
        self.key = " | ".join((path, func, self.desc, self.text))
        self.source = src[:start] + new + src[end:]


def mutants(path, src):
    toks = tokens(src)
    only = FUNCTIONS.get(path)
    for name, first, last in functions(toks):
        if only is not None and name not in only:
            continue
        for start, end, new in mutants_in(src, toks, first, last):
            yield Mutant(path, src, name, start, end, new)


def load_allowlist():
    keys = {}
    if not os.path.exists(ALLOWLIST):
        return keys
    with open(ALLOWLIST, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split(" | ")]
            if len(parts) < 5 or not parts[4]:
                raise SystemExit("%s:%d: want 'file | function | mutation | "
                                 "line | reason'" % (ALLOWLIST, n))
            keys[" | ".join(parts[:3] + [" | ".join(parts[3:-1])])] = parts[-1]
    return keys


# ---- running ---------------------------------------------------------------

def make(tmp, target, quiet=True):
    # -w: a mutant that only draws a warning is still a program to test
    cmd = ["make", "-s", "-C", tmp, "CFLAGS=-O0", "WARN=-w", target]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode and not quiet:
        sys.stderr.write(r.stdout.decode(errors="replace"))
    return r.returncode == 0


def commands(tmp, path, tests):
    """The shell commands that rebuild path's object and relink the test
    binaries, taken from make's own recipes; each test's own source is
    compiled once here, so a mutant costs one compile and the links."""
    r = subprocess.run(["make", "-n", "-B", "-s", "-C", tmp, "CFLAGS=-O0",
                        "WARN=-w"] + ["build/obj/" + t for t in tests],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True, check=True)
    obj = "build/obj/%s.o" % os.path.splitext(os.path.basename(path))[0]
    compile_cmd, links = None, {}
    for line in r.stdout.splitlines():
        if line.endswith(" -o %s %s" % (obj, path)):
            compile_cmd = line
        for t in tests:
            src = " tests/unit/%s.c " % t
            if (" -o build/obj/%s%s" % (t, src)) in line:
                pre = line.replace(" -o build/obj/%s%s" % (t, src),
                                   " -c -o build/obj/%s.o%s" % (t, src))
                subprocess.run(pre, shell=True, cwd=tmp, check=True,
                               stderr=subprocess.DEVNULL)
                links[t] = fast_link(tmp, line, t, obj)
    if not compile_cmd or len(links) != len(tests):
        raise SystemExit("mutate: cannot find the recipes for %s" % path)
    return [compile_cmd], links


def fast_link(tmp, line, test, obj):
    """make's link line for test, rewritten to take the unchanged objects
    from an archive (only what the test needs is linked, and --as-needed
    drops the libraries it does not use) and lld when there is one: the
    link is most of what a mutant costs."""
    words = line.split()
    objs = [w for w in words if w.startswith("build/obj/") and w.endswith(".o")]
    if not objs or "-o" not in words:
        raise SystemExit("mutate: cannot read the link line %r" % line)
    head = words[:words.index("-o")]
    libs = words[words.index(objs[-1]) + 1:]
    rest = "build/mutate-rest.a"
    if not os.path.exists(os.path.join(tmp, rest)):
        subprocess.run(["ar", "rcs", rest] + [o for o in objs if o != obj],
                       cwd=tmp, check=True)
    if shutil.which("ld.lld"):
        head.append("-fuse-ld=lld")
    return " ".join(head + ["-Wl,--as-needed", "-o", "build/obj/" + test,
                            "build/obj/%s.o" % test, obj, rest] + libs)


def rebuild(tmp, cmds):
    for c in cmds:
        if subprocess.run(c, shell=True, cwd=tmp, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode:
            return False
    return True


def run_tests(tmp, tests, timeout):
    """True if every test binary passes within timeout."""
    for t in tests:
        try:
            p = subprocess.Popen(["./build/obj/" + t], cwd=tmp,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return False
        if p.returncode != 0:
            return False
    return True


def copy_tree(tmp):
    def ignore(d, names):
        if d == ROOT:
            return [n for n in names if n in (".git", "build", "out",
                                              "bulletin")]
        return [n for n in names if n == "__pycache__"]
    shutil.copytree(ROOT, tmp, ignore=ignore, dirs_exist_ok=True)


def add_baseline_tests(tmp, tests, rev):
    """Copies the tests as they were at rev next to today's, as
    tests/unit/TEST_base.c, so one compile of each mutant scores both."""
    base = []
    for t in tests:
        old = subprocess.run(["git", "-C", ROOT, "show",
                              "%s:tests/unit/%s.c" % (rev, t)],
                             stdout=subprocess.PIPE, check=True).stdout
        with open(os.path.join(tmp, "tests", "unit", t + "_base.c"), "wb") as f:
            f.write(old)
        base.append(t + "_base")
    return base


def new_counts():
    return dict(total=0, killed=0, survived=0, equivalent=0, skipped=0)


def score(counts, m, killed, allow, seen):
    """Counts one built mutant; returns its status."""
    if killed:
        counts["killed"] += 1
        return "killed"
    if m.key in allow:
        counts["equivalent"] += 1
        seen.add(m.key)
        return "equivalent"
    counts["survived"] += 1
    return "SURVIVED"


def sweep(path, args, allow, tmp):
    """Runs every mutant of path. Returns {label: counts}, the survivors
    and the allowlist keys for path that no surviving mutant matched."""
    tests = args.tests.split(",") if args.tests else TESTS.get(path)
    if not tests:
        raise SystemExit("mutate: no unit tests known for %s (use --tests)"
                         % path)
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        src = f.read()
    ms = list(mutants(path, src))
    if args.lines:
        keep = set()
        for part in args.lines.split(","):
            lo, _, hi = part.partition("-")
            keep.update(range(int(lo), int(hi or lo) + 1))
        ms = [m for m in ms if m.line in keep]
    if args.list:
        for m in ms:
            print("%s:%d: %s    %s" % (path, m.line, m.desc, m.text))
        return None
    base = add_baseline_tests(tmp, tests, args.baseline) if args.baseline else []
    target = os.path.join(tmp, path)
    for t in tests + base:
        if not make(tmp, "build/obj/" + t, quiet=False):
            raise SystemExit("mutate: %s does not build" % t)
    compile_cmd, links = commands(tmp, path, tests + base)
    if not rebuild(tmp, compile_cmd + list(links.values())):
        raise SystemExit("mutate: %s does not build" % path)
    t0 = time.monotonic()
    if not run_tests(tmp, tests + base, 600):
        raise SystemExit("mutate: %s fails before any mutation" % tests)
    timeout = max(2.0, 10 * (time.monotonic() - t0))
    counts = {path: new_counts()}
    if base:
        counts["%s@%s" % (path, args.baseline)] = new_counts()
    survivors, seen, skipped = [], set(), 0
    try:
        for n, m in enumerate(ms, 1):
            with open(target, "w", encoding="utf-8") as f:
                f.write(m.source)
            if not rebuild(tmp, compile_cmd):
                skipped += 1
                status = "skipped"
                continue
            # Today's tests include REV's: what those kill, these kill too.
            old_killed = base and not (rebuild(tmp, [links[t] for t in base])
                                       and run_tests(tmp, base, timeout))
            killed = old_killed or not (rebuild(tmp, [links[t] for t in tests])
                                        and run_tests(tmp, tests, timeout))
            status = score(counts[path], m, killed, allow, seen)
            if status == "SURVIVED":
                survivors.append(m)
            if base:
                old = score(counts["%s@%s" % (path, args.baseline)], m,
                            old_killed, allow, set())
                status += " (%s before)" % old
            if args.verbose or status.startswith("SURVIVED"):
                print("[%d/%d] %s:%d %s %s" % (n, len(ms), path, m.line,
                                              m.desc, status), flush=True)
    finally:
        with open(target, "w", encoding="utf-8") as f:
            f.write(src)
    for c in counts.values():
        c["skipped"] = skipped
        c["total"] = c["killed"] + c["survived"] + c["equivalent"]
    stale = [k for k in allow if k.startswith(path + " |") and k not in seen
             and not args.lines]
    return counts, survivors, stale


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="src/FILE.c")
    ap.add_argument("--tests", help="comma-separated test binaries "
                    "(default: the module's own)")
    ap.add_argument("--baseline", metavar="REV",
                    help="also score each mutant against the unit tests as "
                    "they were at git revision REV (tests only added since: "
                    "a mutant those kill is not run again)")
    ap.add_argument("--lines", metavar="A-B",
                    help="only the mutants on these source lines (A-B,C,...)")
    ap.add_argument("--list", action="store_true",
                    help="list the mutants, run nothing")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every mutant's outcome")
    args = ap.parse_args()
    # a kill cleans up as Ctrl-C does (the worktree is never touched)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    allow = load_allowlist()
    rows = []
    tmp = tempfile.mkdtemp(prefix="bulletin-mutate-")
    try:
        copy_tree(tmp)
        for path in args.files:
            path = os.path.relpath(os.path.abspath(path), ROOT)
            res = sweep(path, args, allow, tmp)
            if res is None:
                continue
            counts, survivors, stale = res
            rows.extend(sorted(counts.items(), key=lambda kv: -len(kv[0])))
            for m in survivors:
                print("survivor: %s | <reason if equivalent>" % m.key)
            for k in stale:
                print("note: allowlisted but not a surviving mutant: %s" % k)
    except KeyboardInterrupt:
        print("mutate: interrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if rows:
        print("\n%-24s %6s %7s %9s %11s %8s %10s" % (
            "file", "total", "killed", "survived", "equivalent", "skipped",
            "kill rate"))
        for path, c in rows:
            denom = c["total"] - c["equivalent"]
            rate = 100.0 * c["killed"] / denom if denom else 100.0
            print("%-24s %6d %7d %9d %11d %8d %9.1f%%" % (
                path, c["total"], c["killed"], c["survived"],
                c["equivalent"], c["skipped"], rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Prints the zero_width[] and wide[] range tables of src/utf8.c.

The data is Python's own unicodedata, whose Unicode version goes to stderr;
paste the output over the tables, and the version into the comment above
them, when Unicode moves on.

zero width: general categories Mn, Me, Cf, Zl, Zp, and the Hangul jungseong
  and jongseong (which join the preceding choseong), but not the soft hyphen
  nor the prepended concatenation marks, which are visible.
wide: East Asian Width W or F, and the ideograph blocks whose unassigned
  code points EastAsianWidth.txt defaults to W.
Runs separated only by unassigned code points are merged, which keeps the
tables short and tends to be right for characters added later.
"""
import sys
import unicodedata as ud

MAX = 0x110000
CAT = [ud.category(chr(c)) for c in range(MAX)]

VISIBLE_CF = {0x00AD, 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD,
              0x110CD} | set(range(0x0600, 0x0606))
JAMO = [(0x1160, 0x11FF), (0xD7B0, 0xD7FF)]
WIDE_BLOCKS = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
               (0x20000, 0x2FFFD), (0x30000, 0x3FFFD)]


def within(c, blocks):
    return any(a <= c <= b for a, b in blocks)


def is_zero(c):
    if c in VISIBLE_CF:
        return False
    return within(c, JAMO) or CAT[c] in ('Mn', 'Me', 'Cf', 'Zl', 'Zp')


def is_wide(c):
    if within(c, WIDE_BLOCKS):
        return True
    # unicodedata answers 'F' for unassigned code points: ignore those
    return CAT[c] != 'Cn' and ud.east_asian_width(chr(c)) in ('W', 'F')


def ranges(pred, first):
    out = []
    for c in range(first, MAX):
        if not pred(c):
            continue
        if out and all(CAT[g] == 'Cn' for g in range(out[-1][1] + 1, c)):
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def emit(name, rs):
    print("static const struct range %s[] = {" % name)
    for i in range(0, len(rs), 3):
        row = " ".join("{ 0x%04X, 0x%04X }," % (a, b) for a, b in rs[i:i + 3])
        print("\t" + row)
    print("};")


print("Unicode %s" % ud.unidata_version, file=sys.stderr)
emit("zero_width", ranges(is_zero, 0x0300))
print()
emit("wide", ranges(is_wide, 0x1100))

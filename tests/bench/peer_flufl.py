"""Mailman's bounce detectors (python3-flufl.bounce) over a folder of
messages: one line per file, "NAME<TAB>hard|soft|none<TAB>ADDR,ADDR".
With --time, only the count and the rate on stderr."""

import email
import os
import sys
import time

from flufl.bounce import all_failures


def main():
    folder, timing = sys.argv[1], "--time" in sys.argv
    names = sorted(os.listdir(folder))
    start = time.monotonic()
    out = []
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            msg = email.message_from_binary_file(f)
        temporary, permanent = all_failures(msg)
        kind = "hard" if permanent else "soft" if temporary else "none"
        addrs = sorted({a.decode("ascii", "replace").lower()
                        for a in (permanent or temporary)})
        out.append(f"{name}\t{kind}\t{','.join(addrs)}")
    took = time.monotonic() - start
    if timing:
        print(f"flufl.bounce: {len(names)} messages in {took:.2f} s, "
              f"{len(names) / took:.0f} msgs/s", file=sys.stderr)
    else:
        print("\n".join(out))


if __name__ == "__main__":
    main()

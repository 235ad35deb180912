"""How often bulletin's verdicts and recipients agree with a peer's.

    agree.py BULLETIN.jsonl PEER.tsv [--show]

BULLETIN.jsonl: `bulletin inbox --format json --dry-run` output. PEER.tsv:
peer_flufl.py or peer_sisimai.pl output (NAME, hard|soft|none, ADDRS).
Verdicts compared: hard, soft, or none (anything that is not a bounce).
"""

import json
import sys

KIND = {"hard-bounce": "hard", "soft-bounce": "soft"}


def load_bulletin(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        out[r["message"]] = (KIND.get(r["kind"], "none"),
                             {a.lower() for a in r["recipients"]})
    return out


def load_peer(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        out[f[0]] = (f[1], set(filter(None, f[2].split(","))))
    return out


def compare(ours, peer):
    """(n, verdict agreements, bounce/not agreements, recipient agreements
    where both call it a bounce, both-bounce count, disagreements)"""
    n = verdict = bounce = rcpt = both = 0
    diff = []
    for name in sorted(set(ours) & set(peer)):
        (ok, oa), (pk, pa) = ours[name], peer[name]
        n += 1
        verdict += ok == pk
        bounce += (ok == "none") == (pk == "none")
        if ok != "none" and pk != "none":
            both += 1
            rcpt += oa == pa
        if ok != pk or (ok != "none" and oa != pa):
            diff.append(f"{name}: bulletin {ok} {sorted(oa)}; "
                        f"peer {pk} {sorted(pa)}")
    return n, verdict, bounce, rcpt, both, diff


def main():
    ours, peer = load_bulletin(sys.argv[1]), load_peer(sys.argv[2])
    n, verdict, bounce, rcpt, both, diff = compare(ours, peer)
    print(f"{n} messages: same verdict (hard/soft/none) {verdict} "
          f"({100 * verdict / n:.0f}%), same bounce-or-not {bounce} "
          f"({100 * bounce / n:.0f}%), same recipients where both see a "
          f"bounce {rcpt} of {both} ({100 * rcpt / max(both, 1):.0f}%)")
    if "--show" in sys.argv:
        print("\n".join(diff))


if __name__ == "__main__":
    main()

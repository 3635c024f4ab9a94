#!/usr/bin/env python3
"""bench/gen.py: deterministic inputs for the Tamis benchmark (bench/run.py).

    bench/gen.py script [--rules 3000] [--seed 1] > bench.sieve
    bench/gen.py messages DIR [--count 1000] [--seed 1]

`script` prints a large, realistic filtering script: RULES `if` rules (about
80 bytes each, 240 KB for 3,000) of the kinds people and admins write: header,
address and envelope tests with :is, :contains and :matches, anyof/allof,
fileinto into varied folders, some variables (set, ${N} from :matches),
elsif chains, stop, discard and redirect.  It only requires extensions that
both Tamis and Pigeonhole's sievec support (fileinto, envelope, variables,
relational, comparator-i;ascii-numeric).

`messages` writes COUNT messages (0001.eml, ...) whose senders, subjects and
list ids are drawn from the same vocabulary, so that some rules match.

Same arguments, same bytes: everything comes from random.Random(seed).
"""
import argparse
import os
import random
import sys

WORDS = """invoice order receipt shipping delivery payment refund account password
security alert update newsletter digest weekly monthly report meeting agenda
minutes review release build failure success ticket issue bug feature request
offer discount sale coupon webinar invitation reminder schedule calendar travel
flight hotel booking confirmation statement balance transfer deposit tax
payroll contract proposal quote budget forecast roadmap sprint standup retro
backup restore outage incident maintenance deploy merge commit patch security""".split()

DOMAINS = """acme.com acme.org mail.acme.com lists.acme.org shop.io bank.net
travel.org news.com corp.com partner.net vendor.org github.com ci.dev
support.io billing.org hr.corp.com""".split()

PEOPLE = """alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia
peggy rupert sybil trent victor walter xavier yvonne zoe noreply billing
support alerts notifications newsletter jenkins build deploy hr payroll""".split()

TOP = """Work Personal Lists Receipts Travel Finance Projects Alerts Social
Archive Clients Vendors Support Newsletters Builds HR""".split()


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def word(self):
        return self.r.choice(WORDS)

    def domain(self):
        return self.r.choice(DOMAINS)

    def person(self):
        return self.r.choice(PEOPLE)

    def addr(self):
        return f"{self.person()}@{self.domain()}"

    def folder(self):
        r = self.r
        depth = r.choice((1, 1, 1, 2, 2, 3))
        parts = [r.choice(TOP)] + [self.word().capitalize() for _ in range(depth - 1)]
        return "/".join(parts)

    def list_id(self):
        return f"{self.word()}-{self.word()}.{self.domain()}"

    def simple_test(self):
        r = self.r
        k = r.randrange(10)
        if k == 0:
            return f'header :contains "subject" "{self.word()} {self.word()}"'
        if k == 1:
            return f'header :is "x-mailing-list" "{self.list_id()}"'
        if k == 2:
            return f'header :matches "subject" "*[{self.word()}]*"'
        if k == 3:
            return f'address :is "from" "{self.addr()}"'
        if k == 4:
            return f'address :domain :is "from" "{self.domain()}"'
        if k == 5:
            return f'address :localpart :contains ["to", "cc"] "{self.person()}"'
        if k == 6:
            return f'envelope :is "to" "{self.person()}+{self.word()}@{self.domain()}"'
        if k == 7:
            return f'header :contains "list-id" "<{self.list_id()}>"'
        if k == 8:
            return f'envelope :domain :is "from" "{self.domain()}"'
        return f'address :matches "from" "*@*.{self.domain()}"'

    def action(self):
        r = self.r
        k = r.randrange(12)
        if k < 8:
            return f'fileinto "{self.folder()}";'
        if k == 8:
            return f'fileinto "{self.folder()}"; stop;'
        if k == 9:
            return 'discard; stop;'
        if k == 10:
            return f'redirect "{self.addr()}";'
        return 'keep;'

    def rule(self):
        """One `if` (or an if/elsif chain of two); returns (text, number of
        rules).  Mostly single tests, as in real scripts."""
        r = self.r
        k = r.randrange(100)
        if k < 66:
            return f'if {self.simple_test()} {{ {self.action()} }}\n', 1
        if k < 73:
            tests = ", ".join(self.simple_test() for _ in range(2))
            return f'if anyof ({tests}) {{ {self.action()} }}\n', 1
        if k < 76:
            return (f'if allof ({self.simple_test()}, not {self.simple_test()}) '
                    f'{{ {self.action()} }}\n'), 1
        if k < 83:
            w = self.word()
            return (f'if header :matches "subject" "{w} #*" {{ set "id" "${{1}}"; '
                    f'fileinto "{r.choice(TOP)}/${{id}}"; }}\n'), 1
        if k < 86:
            keys = ", ".join(f'"{self.domain()}"' for _ in range(3))
            return f'if address :domain :is ["from", "sender"] [{keys}] {{ {self.action()} }}\n', 1
        if k < 90:
            return (f'if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" '
                    f'"{r.randrange(3, 15)}" {{ fileinto "Junk"; stop; }}\n'), 1
        return (f'if {self.simple_test()} {{ {self.action()} }}\n'
                f'elsif {self.simple_test()} {{ {self.action()} }}\n'), 2


def gen_script(rules, seed):
    g = Gen(seed)
    out = ['# Generated by bench/gen.py: a large, realistic filtering script.\n',
           'require ["fileinto", "envelope", "variables", "relational", '
           '"comparator-i;ascii-numeric"];\n',
           'set "user" "bob";\n']
    n = 0
    while n < rules:
        text, k = g.rule()
        if n + k > rules:
            continue
        out.append(text)
        n += k
    return "".join(out)


def gen_message(g, i):
    r = g.r
    frm = g.addr()
    subj_kind = r.randrange(4)
    if subj_kind == 0:
        subject = f"{g.word()} #{r.randrange(1, 99999)}"
    elif subj_kind == 1:
        subject = f"[{g.word()}] {g.word()} {g.word()}"
    else:
        subject = f"{g.word().capitalize()} {g.word()} {g.word()}"
    headers = [
        f"Return-Path: <{frm}>",
        f"Received: from mx{r.randrange(1, 9)}.{g.domain()} by mail.example.com; Mon, 6 Nov 2023 10:00:00 +0100",
        f"From: \"{g.person().capitalize()}\" <{frm}>",
        f"To: {g.person()}@example.com",
        f"Subject: {subject}",
        f"Date: Mon, 6 Nov 2023 {r.randrange(0, 24):02d}:{r.randrange(0, 60):02d}:00 +0100",
        f"Message-ID: <{i}.{r.randrange(10**9)}@{g.domain()}>",
        f"X-Spam-Score: {r.randrange(0, 12)}",
    ]
    if r.randrange(3) == 0:
        headers.append(f"List-Id: {g.word()} <{g.list_id()}>")
    if r.randrange(4) == 0:
        headers.append(f"Cc: {g.addr()}, {g.addr()}")
    body = "\r\n".join(" ".join(g.word() for _ in range(12)) for _ in range(r.randrange(3, 30)))
    return "\r\n".join(headers) + "\r\n\r\n" + body + "\r\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("script")
    s.add_argument("--rules", type=int, default=3000)
    s.add_argument("--seed", type=int, default=1)
    m = sub.add_parser("messages")
    m.add_argument("dir")
    m.add_argument("--count", type=int, default=1000)
    m.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.what == "script":
        sys.stdout.write(gen_script(a.rules, a.seed))
        return
    os.makedirs(a.dir, exist_ok=True)
    g = Gen(a.seed + 1000)
    for i in range(1, a.count + 1):
        with open(os.path.join(a.dir, f"{i:04d}.eml"), "w", newline="") as f:
            f.write(gen_message(g, i))


if __name__ == "__main__":
    main()

"""Randomized check of editheader's in-place message editing against a
simple model: random messages (CRLF or LF, folded fields, lines that are
not fields, with or without a body) and random sequences of addheader /
addheader :last / deleteheader [:index N [:last]], with fileinto snapshots
in between.  Every stored message must equal what the model computes.
Deterministic (fixed seeds).
"""
import pathlib
import random

import pytest
from conftest import make_maildir

NAMES = ["X-A", "X-B", "Subject", "X-Long-Name", "x-a"]


def gen_message(rng):
    eol = rng.choice(["\r\n", "\n"])
    lines = []
    for _ in range(rng.randint(0, 8)):
        kind = rng.random()
        if kind < 0.1:
            lines.append(("junk", ["garbage line without colon" + eol]))
        else:
            name = rng.choice(NAMES + ["From", "To"])
            field = [f"{name}: v{rng.randint(0, 99)}{eol}"]
            if rng.random() < 0.3:
                field.append(f"\tcontinued {rng.randint(0, 9)}{eol}")
            lines.append((name, field))
    body_kind = rng.random()
    if body_kind < 0.7:
        tail = eol + "body " * rng.randint(0, 5) + eol
    elif body_kind < 0.85:
        tail = eol                       # empty line, empty body
    else:
        tail = ""                        # no empty line at all
    return eol, lines, tail


def render(lines, tail):
    return "".join("".join(f) for _, f in lines) + tail


def model_add(eol, lines, tail, name, value, last):
    field = (name, [f"{capitalize(name)}: {value}{eol}"])
    if not last:
        return [field] + lines, tail
    if tail == "" and lines and not lines[-1][1][-1].endswith("\n"):
        lines[-1][1][-1] += eol
    return lines + [field], tail


def capitalize(name):
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


def model_delete(lines, name, index, from_last):
    positions = [i for i, (n, _) in enumerate(lines) if n != "junk" and n.lower() == name.lower()]
    if from_last:
        positions.reverse()
    if index:
        positions = positions[index - 1:index]
    drop = set(positions)
    return [f for i, f in enumerate(lines) if i not in drop]


def folder_contents(root, box):
    d = pathlib.Path(root) / ("." + box)
    files = sorted(list((d / "new").glob("*")) + list((d / "cur").glob("*")))
    return [f.read_bytes() for f in files]


@pytest.mark.parametrize("seed", range(40))
def test_random_edits_match_model(run_tamis, tmp_workdir, seed):
    rng = random.Random(seed)
    eol, lines, tail = gen_message(rng)
    msg = render(lines, tail)
    if "\n" not in msg:
        eol = "\r\n"   # nothing to follow: new fields use CRLF
    script = ['require ["editheader", "fileinto", "mailbox"];']
    snapshots = {}
    for step in range(rng.randint(1, 25)):
        r = rng.random()
        if r < 0.35:
            name, value = rng.choice(NAMES), "n%d" % step
            last = rng.random() < 0.5
            script.append('addheader %s"%s" "%s";' % (":last " if last else "", name, value))
            lines, tail = model_add(eol, lines, tail, name, value, last)
        elif r < 0.75:
            name = rng.choice(NAMES)
            index = rng.choice([0, 0, 1, 2, 3])
            from_last = index and rng.random() < 0.5
            tags = ""
            if index:
                tags = ":index %d %s" % (index, ":last " if from_last else "")
            script.append('deleteheader %s"%s";' % (tags, name))
            lines = model_delete(lines, name, index, from_last)
        else:
            box = "s%d" % step
            script.append('fileinto :create "%s";' % box)
            snapshots[box] = render(lines, tail)
    script.append('fileinto :create "final";')
    snapshots["final"] = render(lines, tail)
    s = tmp_workdir / "s.sieve"
    s.write_text("\n".join(script) + "\n")
    m = tmp_workdir / "m.eml"
    m.write_bytes(msg.encode())
    md = make_maildir(tmp_workdir / "Maildir")
    res = run_tamis("test", "-x", "+editheader", "-e", "-l", md, s, m)
    assert res.returncode == 0, res
    for box, want in snapshots.items():
        got = folder_contents(md, box)
        assert got == [want.encode()], (box, msg, "\n".join(script), got, want)

"""The CLI's front door: usage, --version and help.

Spec: `tamis` with no arguments prints its usage on stderr and exits 2;
`tamis --version` prints "tamis <version>" and exits 0; `tamis help` lists the
subcommands.
"""
import re

SUBCOMMANDS = ["compile", "dump", "test", "testsuite"]


def test_no_args_prints_usage_on_stderr_and_exits_2(run_tamis):
    r = run_tamis()
    assert r.returncode == 2, r
    assert "usage" in r.stderr.lower(), r
    assert "tamis" in r.stderr, r
    assert "usage" not in r.stdout.lower(), r


def test_version(run_tamis):
    r = run_tamis("--version")
    assert r.returncode == 0, r
    assert re.fullmatch(r"tamis \S+", r.stdout.strip()), r


def test_help_lists_subcommands(run_tamis):
    r = run_tamis("help")
    assert r.returncode == 0, r
    for cmd in SUBCOMMANDS:
        # \b keeps "test" from being satisfied by "testsuite" alone.
        assert re.search(rf"\b{cmd}\b", r.stdout), f"{cmd!r} missing from help: {r!r}"

"""vnd.dovecot.pipe, vnd.dovecot.filter and vnd.dovecot.execute through the
CLI: off unless the administrator enables them, program names checked at
compile time, programs found only in the configured directory and run
without a shell, timeouts, and the filter's replacement message reaching
later tests and the store.
"""
import pathlib
import re
import time

import pytest

MSG = ("From: Alice <alice@example.org>\r\n"
       "To: bob@example.net\r\n"
       "Subject: quarterly report\r\n"
       "\r\n"
       "Numbers attached.\r\n")

EXTS = "+vnd.dovecot.pipe +vnd.dovecot.filter +vnd.dovecot.execute"


def write(d, name, text, mode=None):
    p = pathlib.Path(d) / name
    p.write_text(text)
    if mode is not None:
        p.chmod(mode)
    return p


@pytest.fixture
def bindir(tmp_workdir):
    d = tmp_workdir / "bin"
    d.mkdir(mode=0o755)
    d.chmod(0o755)
    write(d, "args", '#!/bin/sh\ncat >/dev/null\nfor a in "$@"; do printf "[%s]" "$a"; done\n', 0o755)
    write(d, "addheader", '#!/bin/sh\necho "$1: $2"\ncat\n', 0o755)
    write(d, "sleep", "#!/bin/sh\nsleep 30\n", 0o755)
    write(d, "fail", "#!/bin/sh\ncat >/dev/null\nexit 1\n", 0o755)
    outside = tmp_workdir / "outside"
    outside.mkdir()
    write(outside, "secret", "#!/bin/sh\ntouch \"$0.ran\"\n", 0o755)
    return d


def test_off_unless_enabled(run_tamis, tmp_workdir):
    for ext, cmd in (("vnd.dovecot.pipe", 'pipe "x";'), ("vnd.dovecot.filter", 'filter "x";'),
                     ("vnd.dovecot.execute", 'execute "x";')):
        s = write(tmp_workdir, "s.sieve", f'require "{ext}";\n{cmd}\n')
        r = run_tamis("compile", s, tmp_workdir / "s.bin")
        assert r.returncode == 1, r
        assert f"unknown Sieve capability `{ext}'" in r.stderr, r
        r = run_tamis("compile", "-x", "+" + ext, s, tmp_workdir / "s.bin")
        assert r.returncode == 0, r


def test_global_extensions_only_for_admin_scripts(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", 'require "vnd.dovecot.pipe";\npipe "x";\n')
    opt = "sieve_global_extensions=+vnd.dovecot.pipe"
    r = run_tamis("compile", "-o", opt, s, tmp_workdir / "s.bin")
    assert r.returncode == 1 and "unknown Sieve capability" in r.stderr, r
    r = run_tamis("compile", "-A", "-o", opt, s, tmp_workdir / "s.bin")
    assert r.returncode == 0, r


def test_bad_program_names_rejected_at_compile_time(run_tamis, tmp_workdir):
    names = ["../outside/secret", "/bin/sh", "a/b", "..", ".", "", "x${unicode:7f}",
             "tab${hex:09}x", "nl${hex:0a}x", "x" * 129]
    lines = ['require ["vnd.dovecot.pipe", "vnd.dovecot.execute", "vnd.dovecot.filter",'
             ' "encoded-character"];']
    for n in names:
        lines.append(f'pipe "{n}";')
    lines.append('execute "../x";')
    lines.append('filter "/etc/passwd";')
    s = write(tmp_workdir, "s.sieve", "\n".join(lines) + "\n")
    r = run_tamis("compile", "-x", EXTS, s, tmp_workdir / "s.bin")
    assert r.returncode == 1, r
    assert r.stderr.count("invalid program name") == len(names) + 2, r
    assert "pipe command: invalid program name '../outside/secret'" in r.stderr, r


def test_program_name_must_be_constant_and_arguments_sane(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve",
              'require ["vnd.dovecot.execute", "variables"];\n'
              'set "p" "args";\n'
              'execute "${p}";\n'
              'execute "args" ["ok", "two\nlines"];\n')
    r = run_tamis("compile", "-x", EXTS, s, tmp_workdir / "s.bin")
    assert r.returncode == 1, r
    assert "requires a constant string for its program-name argument" in r.stderr, r
    assert re.search(r"specified external program argument `two\?+lines' is invalid", r.stderr), r


def test_arguments_are_not_shell_interpreted(run_tamis, tmp_workdir, bindir):
    marker = tmp_workdir / "pwned"
    s = write(tmp_workdir, "s.sieve",
              'require ["vnd.dovecot.execute", "variables", "fileinto"];\n'
              f'set "evil" "$(touch {marker})";\n'
              'execute :pipe :output "out" "args" ["${evil}", "a b", ";ls", "*"];\n'
              f'if string :is "${{out}}" "[$(touch {marker})][a b][;ls][*]" {{ fileinto "Verbatim"; }}\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_execute_bin_dir={bindir}", s, m)
    assert r.returncode == 0, r
    assert " * store message in folder: Verbatim\n" in r.stdout, r
    assert not marker.exists()


def test_filter_replaces_message_for_later_commands(run_tamis, tmp_workdir, bindir):
    s = write(tmp_workdir, "s.sieve",
              'require ["vnd.dovecot.filter", "fileinto"];\n'
              'if header :contains "x-scanned" "yes" { fileinto "Wrong"; }\n'
              'filter "addheader" ["X-Scanned", "yes"];\n'
              'if header :is "x-scanned" "yes" { fileinto "Scanned"; }\n')
    m = write(tmp_workdir, "m.eml", MSG)
    md = tmp_workdir / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / ".Scanned" / sub).mkdir(parents=True)
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_filter_bin_dir={bindir}",
                  "-e", "-l", md, s, m)
    assert r.returncode == 0, r
    assert " * store message in folder: Scanned\n" in r.stdout, r
    assert "Wrong" not in r.stdout
    stored = list((md / ".Scanned" / "new").iterdir())
    assert len(stored) == 1
    data = stored[0].read_bytes()
    assert data.startswith(b"X-Scanned: yes\n"), data
    assert b"Subject: quarterly report" in data


def test_filter_false_keeps_message(run_tamis, tmp_workdir, bindir):
    s = write(tmp_workdir, "s.sieve",
              'require ["vnd.dovecot.filter", "fileinto"];\n'
              'if filter "fail" { fileinto "Changed"; } else { fileinto "Unchanged"; }\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_filter_bin_dir={bindir}", s, m)
    assert r.returncode == 0, r
    assert " * store message in folder: Unchanged\n" in r.stdout, r


def test_pipe_printed_and_executed(run_tamis, tmp_workdir, bindir):
    s = write(tmp_workdir, "s.sieve", 'require "vnd.dovecot.pipe";\npipe :try "args" ["x"];\n')
    m = write(tmp_workdir, "m.eml", MSG)
    md = tmp_workdir / "Maildir"
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_pipe_bin_dir={bindir}",
                  "-e", "-l", md, s, m)
    assert r.returncode == 0, r
    assert r.stdout == ("\nPerformed actions:\n\n"
                        " * pipe message to external program 'args':\n"
                        "    => try           : yes\n\n"
                        "\nImplicit keep:\n\n  (none)\n\n"), r
    # A failing pipe without :try fails the result: the message is kept.
    s = write(tmp_workdir, "s.sieve", 'require "vnd.dovecot.pipe";\npipe "fail";\n')
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_pipe_bin_dir={bindir}",
                  "-e", "-l", md, s, m)
    assert r.returncode == 1, r
    assert "pipe action: failed to execute to program `fail'" in r.stderr, r
    assert len(list((md / "new").iterdir())) == 1


def test_unconfigured_directory_runs_nothing(run_tamis, tmp_workdir, bindir):
    s = write(tmp_workdir, "s.sieve", 'require "vnd.dovecot.execute";\nexecute "args";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-x", EXTS, s, m)
    assert r.returncode == 1, r
    assert "vnd.dovecot.execute extension is unconfigured" in r.stderr, r


def test_missing_program_and_outside_directory(run_tamis, tmp_workdir, bindir):
    s = write(tmp_workdir, "s.sieve", 'require "vnd.dovecot.execute";\nexecute "secret";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_execute_bin_dir={bindir}", s, m)
    assert r.returncode == 1, r
    assert "execute action: program `secret' not found" in r.stderr, r
    assert not (tmp_workdir / "outside" / "secret.ran").exists()


def test_world_writable_directory_refused(run_tamis, tmp_workdir, bindir):
    bindir.chmod(0o777)
    s = write(tmp_workdir, "s.sieve", 'require "vnd.dovecot.execute";\nexecute "args";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_execute_bin_dir={bindir}", s, m)
    assert r.returncode == 1, r
    assert "world-writable" in r.stderr, r


def test_timeout_kills_program(run_tamis, tmp_workdir, bindir):
    s = write(tmp_workdir, "s.sieve",
              'require ["vnd.dovecot.execute", "fileinto"];\n'
              'if not execute "sleep" { fileinto "TimedOut"; }\n')
    m = write(tmp_workdir, "m.eml", MSG)
    t0 = time.monotonic()
    r = run_tamis("test", "-x", EXTS, "-o", f"sieve_execute_bin_dir={bindir}",
                  "-o", "sieve_execute_exec_timeout=1s", s, m)
    took = time.monotonic() - t0
    assert r.returncode == 0, r
    assert " * store message in folder: TimedOut\n" in r.stdout, r
    assert "execution timed out" in r.stderr, r
    assert took < 10, took

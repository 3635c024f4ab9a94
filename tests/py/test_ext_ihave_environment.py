"""ihave (RFC 5463), environment (RFC 5183), vnd.dovecot.environment,
vnd.dovecot.debug and special-use (RFC 8579) through `tamis test`.
Expected listings were checked against sieve-test (Pigeonhole 0.5.19),
except for the product name and version, which are Tamis's own.
"""
import pathlib
import re

import pytest

MSG = ("From: alice@example.com\r\nTo: user@example.net\r\nSubject: frop test\r\n"
       "Message-ID: <abc@example.com>\r\n\r\nbody\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def run(run_tamis, d, script, *opts):
    return run_tamis("test", *opts, write(d, "s.sieve", script), write(d, "m.eml", MSG))


def folders(r):
    assert r.returncode == 0, r
    return re.findall(r"^ \* store message in folder: (.*)$", r.stdout.split("Implicit keep")[0], re.M)


# ---- ihave ----

def test_ihave_unknown_capability_block_is_not_compiled(run_tamis, tmp_workdir):
    # RFC 5463 section 3: the block may use what the server lacks
    r = run(run_tamis, tmp_workdir, 'require ["ihave", "fileinto"];\n'
            'if ihave "nonsense-extension" { nonsense_command "Frop!"; fileinto "no"; }\n'
            'if anyof (ihave "frop", true) { fileinto "any"; }\n'
            'if not ihave "x-unknown" { fileinto "not"; }\n')
    assert folders(r) == ["any", "not"]


def test_ihave_loads_known_extensions(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "ihave";\n'
            'if ihave ["fileinto", "copy"] { fileinto :copy "yes"; }\n'
            'if ihave "imap4flags" { addflag "x"; keep; }\n')
    assert r.returncode == 0, r
    assert folders(r) == ["yes", "INBOX"]
    assert "+ add IMAP flags: x" in r.stdout


def test_ihave_does_not_load_outside_its_reach(run_tamis, tmp_workdir):
    # an unknown name makes the whole test false: fileinto stays unknown
    r = run(run_tamis, tmp_workdir, 'require "ihave";\n'
            'if ihave ["fileinto", "nonsense"] { fileinto "x"; }\nfileinto "y";\n')
    assert r.returncode != 0, r
    assert "unknown command 'fileinto'" in r.stderr


@pytest.mark.parametrize("cap", ["variables", "encoded-character"])
def test_ihave_refuses_extensions_that_change_parsing(run_tamis, tmp_workdir, cap):
    # RFC 5463 section 4: the test fails and the extension stays off
    r = run(run_tamis, tmp_workdir, f'require ["ihave", "fileinto"];\n'
            f'if ihave "{cap}" {{ set "a" "b"; fileinto "yes"; }} else {{ fileinto "no"; }}\n')
    assert folders(r) == ["no"]


def test_ihave_of_a_disabled_extension_is_false(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require ["ihave", "fileinto"];\n'
            'if ihave "editheader" { addheader "X" "y"; fileinto "yes"; } else { fileinto "no"; }\n')
    assert folders(r) == ["no"]


def test_error_command_fails_the_script(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "ihave";\nerror "Something failed.";\nfileinto "x";\n')
    assert r.returncode != 0  # fileinto is unknown: a compile error
    r = run(run_tamis, tmp_workdir, 'require ["ihave", "fileinto"];\nerror "Something failed.";\nfileinto "x";\n')
    assert r.returncode == 1, r
    assert "Something failed." in r.stderr
    assert "final result: failed; resolved with successful implicit keep" in r.stderr


# ---- environment ----

ENV = 'require ["fileinto", "environment", "variables", "relational", "comparator-i;ascii-numeric"];\n'


def test_environment_items(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, ENV + "".join(
        f'if environment :matches "{item}" "*" {{ fileinto "{item}=${{1}}"; }}\n'
        for item in ("location", "phase", "name", "version", "host", "domain", "nope")))
    got = dict(f.split("=", 1) for f in folders(r))
    # tamis test is sieve-test's counterpart: a tool looking at a stored message
    assert got["location"] == "MS" and got["phase"] == "post"
    assert got["name"] == "Tamis"
    assert re.fullmatch(r"\d+\.\d+\.\d+", got["version"])
    assert got["host"] and got["domain"]
    assert "nope" not in got


def test_environment_host_and_domain_follow_the_hostname_setting(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, ENV +
            'if environment :is "host" "mx1.mail.example.org" { fileinto "host"; }\n'
            'if environment :is "domain" "mail.example.org" { fileinto "domain"; }\n',
            "-o", "hostname=mx1.mail.example.org")
    assert folders(r) == ["host", "domain"]


def test_unknown_item_fails_even_count_zero(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, ENV +
            'if environment :count "eq" :comparator "i;ascii-numeric" "nope" "0" { fileinto "zero"; }\n'
            'if environment :count "eq" :comparator "i;ascii-numeric" "location" "1" { fileinto "one"; }\n'
            'if environment :is "Location" "MS" { fileinto "case"; }\n')
    assert folders(r) == ["one"]


def test_vnd_dovecot_environment_items_and_namespace(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "vnd.dovecot.environment", "variables"];\n'
            'if environment :is "vnd.dovecot.default-mailbox" "Foo" { fileinto "dm"; }\n'
            'if environment :contains "vnd.dovecot.username" "" { fileinto "user"; }\n'
            'if environment :is "vnd.dovecot.config.display_name" "Jan Jansen" { fileinto "cfg"; }\n'
            'if environment :contains "vnd.dovecot.config.DISPLAY_NAME" "" { fileinto "cfg-case"; }\n'
            'fileinto "${env.vnd.dovecot.default_mailbox}|${env.location}|${env.nope}|${env.vnd.dovecot.config.display_name}";\n',
            "-x", "+vnd.dovecot.environment", "-m", "Foo", "-o", "sieve_env_display_name=Jan Jansen")
    assert folders(r) == ["dm", "user", "cfg", "Foo|MS||Jan Jansen"]


def test_vnd_dovecot_environment_is_off_by_default(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "vnd.dovecot.environment";\n')
    assert r.returncode != 0 and "unknown Sieve capability" in r.stderr, r


@pytest.mark.parametrize("script,message", [
    ('set "env.x" "y";', "vnd.dovecot.environment: cannot assign to environment variable `env.x'"),
    ('set "a" "${env.1}";', "encountered numeric variable name"),
])
def test_env_namespace_errors(run_tamis, tmp_workdir, script, message):
    r = run(run_tamis, tmp_workdir, 'require ["vnd.dovecot.environment", "variables"];\n' + script + "\n",
            "-x", "+vnd.dovecot.environment")
    assert r.returncode != 0, r
    assert message in r.stderr, r


# ---- vnd.dovecot.debug ----

def test_debug_log(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "vnd.dovecot.debug";\ndebug_log "logging basic message.";\n',
            "-x", "+vnd.dovecot.debug")
    assert r.returncode == 0, r
    assert "DEBUG: logging basic message." in r.stderr
    assert "Implicit keep:\n\n * store message in folder: INBOX" in r.stdout


@pytest.mark.parametrize("opts", [(), ("-x", "-vnd.dovecot.debug"), ("-x", "ihave")])
def test_debug_log_is_always_on_in_tamis_test(run_tamis, tmp_workdir, opts):
    # sieve-test registers vnd.dovecot.debug itself, whatever
    # sieve_extensions says (seen in the differential test)
    r = run(run_tamis, tmp_workdir, 'require ["vnd.dovecot.debug", "ihave"];\n'
            'debug_log "reached";\nif ihave "vnd.dovecot.debug" { discard; }\n', *opts)
    assert r.returncode == 0, r
    assert "DEBUG: reached" in r.stderr
    assert "Performed actions:\n\n * discard\n" in r.stdout


# ---- special-use ----

SU = 'require ["fileinto", "special-use", "variables"];\n'


def test_specialuse_listing_and_fallback(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, SU + 'set "x" "\\\\Junk";\n'
            'if specialuse_exists "\\\\Junk" { fileinto "j"; }\n'
            'if specialuse_exists "INBOX" ["\\\\Junk", "\\\\Sent"] { fileinto "j2"; }\n'
            'fileinto :specialuse "${x}" "Spam";\n', "-x", "+special-use")
    assert r.returncode == 0, r
    assert r.stdout.split("Implicit keep")[0].endswith(
        " * store message in folder: Spam\n"
        "        + use mailbox with special-use flag `\\Junk' instead if accessible\n\n")


@pytest.mark.parametrize("script,message", [
    ('fileinto :specialuse "frop" "frop";', "specialuse tag: invalid special-use flag 'frop' specified"),
    ('if specialuse_exists "frop" { keep; }', "specialuse_exists test: invalid special-use flag 'frop' specified"),
    ('if specialuse_exists ["a"] ["\\\\Sent"] { keep; }', "the first must be a string (mailbox)"),
    ('fileinto :specialuse "\\\\Sent";', "positional argument"),
])
def test_specialuse_errors(run_tamis, tmp_workdir, script, message):
    r = run(run_tamis, tmp_workdir, SU + script + "\n", "-x", "+special-use")
    assert r.returncode != 0, r
    assert message in r.stderr, r


def test_specialuse_runtime_flag_is_checked(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, SU + 'set "x" "Junk";\nfileinto :specialuse "${x}" "Spam";\n',
            "-x", "+special-use")
    assert r.returncode == 1, r
    assert "specialuse tag: invalid special-use flag 'Junk' specified" in r.stderr


def test_specialuse_is_off_by_default(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, SU)
    assert r.returncode != 0 and "unknown Sieve capability `special-use'" in r.stderr, r


def test_debug_is_on_in_tamis_compile_as_in_sievec(run_tamis, tmp_workdir):
    # Debian's sievec compiles `require "vnd.dovecot.debug"` without any
    # setting; tamis compile does too, and the binary it writes is used
    # by tamis test (which has the extension as well).
    s = pathlib.Path(tmp_workdir) / "d.sieve"
    s.write_text('require "vnd.dovecot.debug";\ndebug_log "x";\n')
    r = run_tamis("compile", s)
    assert r.returncode == 0, r
    assert (pathlib.Path(tmp_workdir) / "d.tmsbin").exists()

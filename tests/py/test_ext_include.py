"""The include extension (RFC 6609) through `tamis test` and `tamis compile`:
include [:personal|:global] [:once] [:optional], return, global and the
"global." namespace, with Pigeonhole's limits and error wording.

Personal scripts come from the "sieve_dir" setting here (or ~/sieve, else
the main script's folder); global ones from "sieve_global".
"""
import pathlib

import pytest

MSG = ("From: boss@example.com\r\n"
       "To: me@example.net\r\n"
       "Sender: owner-ietf-mta-filters@imc.example.com\r\n"
       "Subject: Make money fast $$\r\n"
       "\r\n"
       "Body.\r\n")


@pytest.fixture
def dirs(tmp_workdir):
    """(main folder, personal folder, global folder, message path, env)."""
    personal = tmp_workdir / "personal"
    glob = tmp_workdir / "global"
    home = tmp_workdir / "home"
    for d in (personal, glob, home):
        d.mkdir()
    m = tmp_workdir / "m.eml"
    m.write_text(MSG)
    return tmp_workdir, personal, glob, m, {"HOME": str(home)}


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def run_test(run_tamis, dirs, script, *extra):
    main, personal, glob, m, env = dirs
    return run_tamis("test", "-o", f"sieve_dir={personal}", "-o", f"sieve_global={glob}",
                     *extra, script, m, env=env)


def stores(out):
    performed = out.split("Implicit keep:")[0]
    return [line[len(" * store message in folder: "):] for line in performed.splitlines()
            if line.startswith(" * store message in folder: ")]


# ---- RFC 6609 section 3 examples -------------------------------------------

def test_rfc_example_1_personal_and_global(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "always_allow.sieve",
          'if header :is "From" "boss@example.com" { keep; }\n'
          'elsif header :is "From" "ceo@example.com" { keep; }\n')
    write(glob, "spam_tests.sieve",
          'require "reject";\n'
          'if anyof (header :contains "Subject" "$$", header :contains "Subject" "Make money") '
          '{ reject "Not wanted"; }\n')
    write(personal, "spam_tests.sieve",
          'require "reject";\nif header :contains "Subject" "XXXX" { reject "Not wanted"; }\n')
    write(personal, "mailing_lists.sieve",
          'require "fileinto";\n'
          'if header :is "Sender" "owner-ietf-mta-filters@imc.example.com" { fileinto "lists.sieve"; }\n')
    s = write(main, "default.sieve",
              'require ["include"];\n'
              'include :personal "always_allow";\n'
              'include :global "spam_tests";\n'
              'include :personal "spam_tests";\n'
              'include :personal "mailing_lists";\n')
    r = run_test(run_tamis, dirs, s)
    # keep from always_allow, then the global spam test rejects: a
    # conflict, as RFC 6609 says a keep followed by reject is an error.
    assert r.returncode == 1, r
    assert "spam_tests: line" not in r.stderr
    assert "reject/ereject action conflicts with other action" in r.stderr
    assert "(always_allow: line 1)" in r.stderr


def test_rfc_example_2_global_subroutine(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "spam_filter_script.sieve",
          'require ["variables", "include"];\n'
          'global ["test", "test_mailbox"];\n'
          'if header :contains "Subject" "${test}" { set "test_mailbox" "spam-${test}"; }\n')
    s = write(main, "default.sieve",
              'require ["variables", "include", "relational", "fileinto"];\n'
              'global "test";\nglobal "test_mailbox";\n'
              'set "test" "$$";\ninclude "spam_filter_script";\n'
              'set "test" "Make money";\ninclude "spam_filter_script";\n'
              'if string :count "eq" "${test_mailbox}" "1" { fileinto "INBOX${test_mailbox}"; stop; }\n')
    r = run_test(run_tamis, dirs, s)
    assert r.returncode == 0, r
    # :count on a string counts one value: the last match wins.
    assert stores(r.stdout) == ["INBOXspam-Make money"], r


# ---- return, :once, globals --------------------------------------------------

def test_return_ends_only_the_included_script(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "sub.sieve",
          'require ["include", "fileinto"];\nfileinto "sub";\nreturn;\nfileinto "after-return";\n')
    s = write(main, "s.sieve",
              'require ["include", "fileinto"];\ninclude "sub";\nfileinto "main";\nreturn;\nfileinto "never";\n')
    r = run_test(run_tamis, dirs, s)
    assert r.returncode == 0, r
    assert stores(r.stdout) == ["sub", "main"]


def test_stop_in_included_script_stops_everything(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "sub.sieve", 'require "fileinto";\nfileinto "sub";\nstop;\n')
    s = write(main, "s.sieve", 'require ["include", "fileinto"];\ninclude "sub";\nfileinto "main";\n')
    r = run_test(run_tamis, dirs, s)
    assert stores(r.stdout) == ["sub"], r


def test_once_and_repeated_includes(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "add.sieve",
          'require ["include", "variables"];\nglobal "acc";\nset "acc" "${acc}x";\n')
    s = write(main, "s.sieve",
              'require ["include", "variables", "fileinto"];\nglobal "acc";\n'
              'include "add";\ninclude :once "add";\ninclude "add";\n'
              'fileinto "r-${acc}";\n')
    r = run_test(run_tamis, dirs, s)
    assert stores(r.stdout) == ["r-xx"], r


def test_locals_are_private_globals_shared(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "sub.sieve",
          'require ["include", "variables", "fileinto"];\n'
          'fileinto "sub-[${local}]-[${global.shared}]";\n'
          'set "local" "sub";\nset "global.shared" "from-sub";\n')
    s = write(main, "s.sieve",
              'require ["include", "variables", "fileinto"];\n'
              'set "local" "main";\nset "global.shared" "from-main";\n'
              'include "sub";\nfileinto "main-[${local}]-[${global.shared}]";\n')
    r = run_test(run_tamis, dirs, s)
    assert stores(r.stdout) == ["sub-[]-[from-main]", "main-[main]-[from-sub]"], r


def test_match_variables_do_not_cross_includes(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "sub.sieve", 'require ["variables", "fileinto"];\nfileinto "sub-[${1}]";\n')
    s = write(main, "s.sieve",
              'require ["include", "variables", "fileinto"];\n'
              'if header :matches "from" "*@*" { include "sub"; fileinto "main-[${2}]"; }\n')
    r = run_test(run_tamis, dirs, s)
    assert stores(r.stdout) == ["sub-[]", "main-[example.com]"], r


def test_global_location_and_optional(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(glob, "g.sieve", 'require ["include", "variables"];\nset "global.where" "global";\n')
    write(personal, "g.sieve", 'require ["include", "variables"];\nset "global.where" "personal";\n')
    s = write(main, "s.sieve",
              'require ["include", "variables", "fileinto"];\n'
              'include :optional "missing";\ninclude :optional :global "missing";\n'
              'include :global "g";\nfileinto "${global.where}";\n'
              'include :personal "g";\nfileinto "${global.where}";\n')
    r = run_test(run_tamis, dirs, s)
    assert r.returncode == 0, r
    assert stores(r.stdout) == ["global", "personal"], r


def test_actions_of_included_scripts_report_their_script(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "r.sieve", 'redirect "a@example.com";\nredirect "b@example.com";\n')
    s = write(main, "s.sieve", 'require "include";\nredirect "c@example.com";\nredirect "d@example.com";\n'
              'redirect "e@example.com";\ninclude "r";\n')
    r = run_test(run_tamis, dirs, s)
    assert r.returncode == 1
    assert "r:2:0: error: number of redirect actions exceeds policy limit (5 > 4)" in r.stderr, r


# ---- compile errors, as Pigeonhole words them -----------------------------------

def compile_errors(run_tamis, dirs, script, *opts):
    main, personal, glob, m, env = dirs
    r = run_tamis("compile", "-o", f"sieve_dir={personal}", "-o", f"sieve_global={glob}", *opts,
                  script, main / "out.tmsbin", env=env)
    assert r.returncode == 1, r
    return [line for line in r.stderr.splitlines() if ": error: " in line]


def test_missing_and_invalid_names(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    s = write(main, "s.sieve",
              'require "include";\ninclude "nope";\ninclude :global "nope";\n'
              'include "../etc/passwd";\ninclude "a/b";\ninclude "";\n')
    errs = compile_errors(run_tamis, dirs, s)
    assert errs == [
        "s:2:9: error: included personal script 'nope' does not exist.",
        "s:3:17: error: included global script 'nope' does not exist.",
        "s:4:9: error: include: invalid script name '../etc/passwd'.",
        "s:5:9: error: include: invalid script name 'a/b'.",
        "s:6:9: error: include: invalid script name ''.",
        "s: error: validation failed.",
    ]


def test_variable_name_is_refused(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    s = write(main, "s.sieve", 'require ["include", "variables"];\nset "n" "x";\ninclude "${n}";\n')
    errs = compile_errors(run_tamis, dirs, s)
    assert "the include command requires a constant string for its value argument" in errs[0]


def test_circular_include(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "a.sieve", 'require "include";\ninclude "b";\n')
    write(personal, "b.sieve", 'require "include";\nkeep;\ninclude "a";\n')
    s = write(main, "s.sieve", 'require "include";\ninclude "a";\n')
    errs = compile_errors(run_tamis, dirs, s)
    assert errs == [
        "b:3:1: error: circular include.",
        "a:2:1: error: failed to generate code for included script 'b'.",
        "s:2:1: error: failed to generate code for included script 'a'.",
        "s: error: code generation failed.",
    ]


def test_circular_once_is_allowed(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "a.sieve", 'require ["include", "fileinto"];\nfileinto "a";\ninclude :once "b";\n')
    write(personal, "b.sieve", 'require ["include", "fileinto"];\nfileinto "b";\ninclude :once "a";\n')
    s = write(main, "s.sieve", 'require "include";\ninclude :once "a";\n')
    r = run_test(run_tamis, dirs, s)
    assert r.returncode == 0, r
    assert stores(r.stdout) == ["a", "b"]


def test_nesting_depth_limit(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "d1.sieve", 'require "include";\ninclude "d2";\n')
    write(personal, "d2.sieve", 'require "include";\ninclude "d3";\n')
    write(personal, "d3.sieve", 'keep;\n')
    s = write(main, "s.sieve", 'require "include";\ninclude "d1";\n')
    errs = compile_errors(run_tamis, dirs, s, "-o", "sieve_include_max_nesting_depth=2")
    assert errs == [
        "d2:2:1: error: cannot nest includes deeper than 2 levels.",
        "d1:2:1: error: failed to generate code for included script 'd2'.",
        "s:2:1: error: failed to generate code for included script 'd1'.",
        "s: error: code generation failed.",
    ]
    r = run_test(run_tamis, dirs, s)
    assert r.returncode == 0, r


def test_include_count_limit(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    for n in "abc":
        write(personal, f"{n}.sieve", "keep;\n")
    s = write(main, "s.sieve", 'require "include";\ninclude "a";\ninclude "b";\ninclude "a";\ninclude "c";\n')
    errs = compile_errors(run_tamis, dirs, s, "-o", "sieve_include_max_includes=2")
    # the second "a" is the same script: it does not count again
    assert errs == ["s:5:1: error: failed to include script 'c': no more than 2 includes allowed.",
                    "s: error: code generation failed."]


def test_errors_inside_included_scripts(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "p.sieve", 'if true {\n')
    write(personal, "v.sieve", 'frop;\n')
    s = write(main, "s.sieve", 'require "include";\ninclude "p";\n')
    assert compile_errors(run_tamis, dirs, s) == [
        "p:2:1: error: expected end of compound block '}', but found end of file.",
        "s:2:1: error: failed to parse included script 'p'.",
        "s: error: code generation failed.",
    ]
    s = write(main, "s.sieve", 'require "include";\ninclude "v";\n')
    assert compile_errors(run_tamis, dirs, s) == [
        "v:1:1: error: unknown command 'frop' (only reported once at first occurrence).",
        "s:2:1: error: failed to validate included script 'v'.",
        "s: error: code generation failed.",
    ]


def test_global_command_errors(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    s = write(main, "s.sieve", 'require "include";\nglobal "x";\n')
    assert compile_errors(run_tamis, dirs, s)[0] == \
        "s:2:1: error: global command requires that variables extension is active."
    s = write(main, "s.sieve",
              'require ["include", "variables"];\nglobal "a.b";\nset "x" "1";\nglobal "x";\n'
              'set "globl.y" "1";\nset "global.a.b" "1";\nset "global.1" "1";\n')
    assert compile_errors(run_tamis, dirs, s) == [
        "s:2:1: error: invalid variable identifier 'a.b'.",
        "s:4:1: error: declaration of new global variable 'x' conflicts with earlier local use.",
        "s:5:5: error: referring to variable in unknown namespace 'globl'.",
        "s:6:5: error: invalid variable name within global namespace: encountered sub-namespace.",
        "s:7:5: error: invalid variable name within global namespace: encountered numeric variable name.",
        "s: error: validation failed.",
    ]


def test_deprecated_import_export_placement(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    s = write(main, "s.sieve",
              'require ["include", "variables"];\nexport "a";\nimport "b";\nkeep;\nexport "c";\nimport "d";\n')
    errs = compile_errors(run_tamis, dirs, s)
    assert errs == [
        "s:5:1: error: the DEPRECATED export command can only be placed at top level at the beginning "
        "of the file after any require or import/export commands.",
        "s: error: validation failed.",
    ]


def test_location_unavailable(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    s = write(main, "s.sieve", 'require "include";\ninclude "x";\n')
    r = run_tamis("compile", "-o", f"sieve_dir={main / 'nowhere'}", s, main / "o.tmsbin", env=env)
    assert r.returncode == 1
    assert ("s:2:9: error: include: personal location for included script `x' is unavailable "
            "(contact system administrator for more information).") in r.stderr, r


def test_personal_defaults_to_script_folder(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(main, "sub.sieve", 'require "fileinto";\nfileinto "from-script-folder";\n')
    s = write(main, "s.sieve", 'require "include";\ninclude "sub";\n')
    r = run_tamis("test", s, m, env=env)
    assert stores(r.stdout) == ["from-script-folder"], r


def test_dict_location(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    d = write(main, "scripts.dict",
              "priv/sieve/name/sub\n7\npriv/sieve/data/7\n"
              'require "fileinto"; fileinto "from-dict";\n')
    s = write(main, "s.sieve", 'require "include";\ninclude "sub";\n')
    r = run_tamis("test", "-o", f"sieve=dict:file:{d}", s, m, env=env)
    assert stores(r.stdout) == ["from-dict"], r


def test_binary_holds_every_included_script(run_tamis, dirs):
    main, personal, glob, m, env = dirs
    write(personal, "sub.sieve", 'require ["include", "variables"];\nglobal "g";\nset "g" "v";\nreturn;\n')
    s = write(main, "s.sieve", 'require ["include", "variables"];\nglobal "g";\ninclude "sub";\n'
              'include :optional "gone";\n')
    r = run_tamis("dump", "-o", f"sieve_dir={personal}", s, env=env)
    assert r.returncode == 0, r
    assert "* Global variables: 1" in r.stdout
    assert "  1: sub code " in r.stdout
    assert "  2: gone (optional) (missing)" in r.stdout
    assert "* Included script 1: sub" in r.stdout
    assert "CMD return (include)" in r.stdout


def test_once_and_optional_may_repeat_location_may_not(run_tamis, dirs):
    # Pigeonhole accepts a repeated :once or :optional; a repeated
    # location tag is its own error.
    main, personal, glob, m, env = dirs
    write(personal, "sub.sieve", 'require "fileinto";\nfileinto "Sub";\n')
    s = write(main, "rep.sieve",
              'require "include";\n'
              'include :once :once :personal "sub";\n'
              'include :optional :optional :once "missing";\n'
              'include :once "sub";\n')
    r = run_test(run_tamis, dirs, s)
    assert r.returncode == 0, r
    assert stores(r.stdout) == ["Sub"]
    s = write(main, "loc.sieve", 'require "include";\ninclude :personal :personal "sub";\n')
    r = run_test(run_tamis, dirs, s)
    assert r.returncode != 0, r
    assert "loc:2:19: error: include: cannot use location tags ':personal' and ':global' multiple times." in r.stderr

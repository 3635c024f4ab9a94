"""The MIME extensions: body (RFC 5173), mime, foreverypart, extracttext,
replace and enclose (RFC 5703), through `tamis test` (what the tests see,
what -e stores) and `tamis testsuite` (behaviour inside one run).  The
cases follow the RFCs' examples and rules; where Pigeonhole's behaviour is
the reference (body values, :param, html to text), the expectations were
checked against sieve-test 0.5.19.
"""
import email
import email.policy
import pathlib

import pytest
from conftest import make_maildir

MIXED = ("From: Alice <alice@example.org>\r\n"
         "To: bob@example.net\r\n"
         "Subject: report\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=outer\r\n"
         "\r\n"
         "This is the preamble.\r\n"
         "--outer\r\n"
         "Content-Type: multipart/alternative; boundary=inner\r\n"
         "\r\n"
         "--inner\r\n"
         "Content-Type: text/plain; charset=iso-8859-1\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n"
         "\r\n"
         "The project schedule, caf=E9.\r\n"
         "--inner\r\n"
         "Content-Type: text/html; charset=utf-8\r\n"
         "\r\n"
         "<html><body><p>The <b>missile</b> &amp; coordinates</p>"
         "<script>secret()</script></body></html>\r\n"
         "--inner--\r\n"
         "--outer\r\n"
         "Content-Type: audio/mp3\r\n"
         "Content-Disposition: attachment; filename=\"song.mp3\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n"
         "SUQzAwAAAAAA\r\n"
         "--outer\r\n"
         "Content-Type: message/rfc822\r\n"
         "\r\n"
         "From: Carol <carol@example.com>\r\n"
         "Subject: forwarded\r\n"
         "\r\n"
         "Inner body MAKE MONEY FAST.\r\n"
         "--outer--\r\n"
         "This is the epilogue.\r\n")

PLAIN = ("From: alice@example.org\r\n"
         "To: bob@example.net\r\n"
         "Subject: plain\r\n"
         "\r\n"
         "MAKE MONEY FAST\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def folders(stdout):
    """The folders of the performed actions (not of the implicit keep)."""
    performed = stdout.split("Implicit keep:", 1)[0]
    return [line.split(": ", 1)[1] for line in performed.splitlines()
            if line.startswith(" * store message in folder: ")]


def run_script(run_tamis, d, script, msg=MIXED, extra=(), execute=False):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", msg)
    args = ["test"] + list(extra)
    if execute:
        md = make_maildir(pathlib.Path(d) / "Maildir")
        args += ["-e", "-l", md]
    return run_tamis(*(args + [s, m]))


def stored(d, box=""):
    base = pathlib.Path(d) / "Maildir" / (("." + box) if box else "")
    files = sorted(list((base / "new").glob("*")) + list((base / "cur").glob("*")))
    return [f.read_bytes() for f in files]


def check_folders(run_tamis, d, script, expected, msg=MIXED, extra=()):
    r = run_script(run_tamis, d, script, msg=msg, extra=extra)
    assert r.returncode == 0, r
    assert folders(r.stdout) == expected, r
    return r


def compile_errors(run_tamis, d, script, extra=()):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", PLAIN)
    r = run_tamis(*(["test"] + list(extra) + [s, m]))
    assert r.returncode != 0, r
    return [l for l in r.stderr.splitlines() if ": error: " in l]


# ---- body: RFC 5173 section 7 examples ----

def test_rfc5173_raw_example(run_tamis, tmp_workdir):
    script = ('require ["body", "fileinto"];\n'
              'if body :raw :contains "MAKE MONEY FAST" { fileinto "spam"; }\n')
    check_folders(run_tamis, tmp_workdir, script, ["spam"], msg=PLAIN)
    # :raw sees the nested message's body too: nothing is decoded or split.
    check_folders(run_tamis, tmp_workdir, script, ["spam"])


def test_rfc5173_content_text_example(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :content "text" :contains ["missile", "coordinates"] { fileinto "secrets"; }\n',
                  ["secrets"])


def test_rfc5173_content_audio_example(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :content "audio/mp3" :contains "" { fileinto "jukebox"; }\n'
                  'if body :content "audio/mp3" :contains "ID3" { fileinto "decoded"; }\n',
                  ["jukebox", "decoded"])
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :content "audio/mp3" :contains "" { fileinto "jukebox"; }\n',
                  [], msg=PLAIN)


def test_rfc5173_text_example(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :text :contains "project schedule" { fileinto "work-stuff"; }\n',
                  ["work-stuff"])


# ---- body: transforms and edge cases ----

def test_default_transform_is_text_and_defaults(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  # decoded from quoted-printable and ISO-8859-1
                  'if body :contains "café" { fileinto "decoded"; }\n'
                  # HTML reduced to text: entities decoded, script dropped
                  'if body :contains "missile  & coordinates" { fileinto "html-text"; }\n'
                  'if body :contains "<b>" { fileinto "tags"; }\n'
                  'if body :contains "secret()" { fileinto "script"; }\n'
                  # only text parts: not the audio part, not the preamble
                  'if body :contains "preamble" { fileinto "preamble"; }\n'
                  # default comparator i;ascii-casemap, default match :is
                  'if body :contains "PROJECT SCHEDULE" { fileinto "casemap"; }\n'
                  'if body "project" { fileinto "not-is"; }\n',
                  ["decoded", "html-text", "casemap"])


def test_content_html_is_not_converted(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :content "text/html" :contains "<b>missile</b>" { fileinto "markup"; }\n'
                  'if body :content "text/plain" :contains "<b>" { fileinto "wrong"; }\n',
                  ["markup"])


def test_content_multipart_preamble_epilogue_not_boundaries(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :content "multipart" :contains "This is the preamble." { fileinto "pre"; }\n'
                  'if body :content "multipart" :contains "This is the epilogue." { fileinto "epi"; }\n'
                  'if body :content "multipart" :contains "--outer" { fileinto "boundary"; }\n'
                  'if body :content "multipart" :contains "project" { fileinto "nested"; }\n',
                  ["pre", "epi"])


def test_content_message_rfc822_is_its_header(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto", "encoded-character"];\n'
                  'if body :content "message/rfc822" :is "From: Carol <carol@example.com>${hex:0d 0a}'
                  'Subject: forwarded${hex:0d 0a}" { fileinto "header"; }\n'
                  'if body :content "message/rfc822" :contains "MAKE MONEY" { fileinto "body"; }\n'
                  # the message inside is a text/plain part of its own
                  'if body :content "text/plain" :contains "MAKE MONEY" { fileinto "inner"; }\n',
                  ["header", "inner"])


def test_content_type_specifications(run_tamis, tmp_workdir):
    # RFC 5173 section 5.2: a type with a stray '/' matches nothing; ""
    # matches every part.
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto", "relational", "comparator-i;ascii-numeric"];\n'
                  'if body :content "/plain" :contains "" { fileinto "begin"; }\n'
                  'if body :content "text/" :contains "" { fileinto "end"; }\n'
                  'if body :content "text/plain/x" :contains "" { fileinto "double"; }\n'
                  'if body :content "TEXT" :count "eq" :comparator "i;ascii-numeric" "3" { fileinto "text3"; }\n'
                  # the outer and the (empty) inner preamble, the outer
                  # epilogue (the inner one is empty: no value), 2 text
                  # parts, audio, message/rfc822 and the message inside it
                  'if body :content "" :count "eq" :comparator "i;ascii-numeric" "8" { fileinto "all8"; }\n',
                  ["text3", "all8"])


def test_header_only_message_has_no_body(run_tamis, tmp_workdir):
    # RFC 5173 section 5: without the empty line every body test fails,
    # even one for the empty string.
    msg = "From: a@example.org\r\nSubject: no body\r\n"
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :raw :contains "" { fileinto "raw"; }\n'
                  'if body :text :contains "" { fileinto "text"; }\n'
                  'if body :content "" :matches "*" { fileinto "content"; }\n',
                  [], msg=msg)
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto"];\n'
                  'if body :text :is "" { fileinto "empty"; }\n',
                  ["empty"], msg=msg + "\r\n")


def test_raw_is_undecoded_and_without_the_empty_line(run_tamis, tmp_workdir):
    msg = ("From: a@example.org\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           "SGVsbG8gd29ybGQ=\r\n")
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto", "encoded-character"];\n'
                  'if body :raw :is "SGVsbG8gd29ybGQ=${hex:0d 0a}" { fileinto "raw"; }\n'
                  'if body :text :is "Hello world" { fileinto "decoded"; }\n',
                  ["raw", "decoded"], msg=msg)


def test_body_leaves_match_variables_alone(run_tamis, tmp_workdir):
    # RFC 5173 section 6
    check_folders(run_tamis, tmp_workdir,
                  'require ["body", "fileinto", "variables"];\n'
                  'if header :matches "subject" "*port" {\n'
                  '  if body :matches "*project*" { fileinto "${1}"; }\n'
                  '}\n',
                  ["re"])


def test_body_errors(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "body";\nif body :raw :text "x" { keep; }\n')
    assert any("the :raw, :content and :text arguments for the body test are mutually "
               "exclusive" in e for e in errs), errs
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "body";\nif body :content "text" { keep; }\n')
    assert errs, errs
    errs = compile_errors(run_tamis, tmp_workdir, 'if body "x" { keep; }\n')
    assert any("unknown test 'body'" in e for e in errs), errs


# ---- mime: :mime, :anychild and the options ----

def test_mime_options_on_content_type(run_tamis, tmp_workdir):
    msg = ("From: a@example.org\r\n"
           "Content-Type: Text/Calendar ; method=REQUEST; charset=UTF-8\r\n"
           "Content-Disposition: attachment;\r\n filename*0*=utf-8''%C3%A9t;\r\n filename*1=\"e.ics\"\r\n"
           "\r\nx\r\n")
    check_folders(run_tamis, tmp_workdir,
                  'require ["mime", "fileinto", "relational", "comparator-i;ascii-numeric"];\n'
                  'if header :mime :type "content-type" "text" { fileinto "type"; }\n'
                  'if header :mime :subtype "content-type" "calendar" { fileinto "subtype"; }\n'
                  'if header :mime :contenttype "content-type" "text/calendar" { fileinto "full"; }\n'
                  'if header :mime :param "method" "content-type" "request" { fileinto "method"; }\n'
                  'if header :mime :param ["method", "charset"] :count "eq" '
                  ':comparator "i;ascii-numeric" "content-type" "2" { fileinto "two"; }\n'
                  'if header :mime :type "content-disposition" "attachment" { fileinto "disp"; }\n'
                  'if header :mime :subtype "content-disposition" "" { fileinto "nosub"; }\n'
                  'if header :mime :param "filename" "content-disposition" "éte.ics" { fileinto "2231"; }\n'
                  # the options only know MIME fields: any other gives ""
                  'if header :mime :type "from" "" { fileinto "other"; }\n'
                  'if header :mime :param "nope" "content-type" "" { fileinto "absent"; }\n',
                  ["type", "subtype", "full", "method", "two", "disp", "nosub", "2231", "other",
                   "absent"], msg=msg)


def test_mime_invalid_content_type_gives_empty(run_tamis, tmp_workdir):
    msg = "From: a@example.org\r\nContent-Type: text/plain/stupid\r\n\r\nx\r\n"
    check_folders(run_tamis, tmp_workdir,
                  'require ["mime", "fileinto"];\n'
                  'if header :mime :type "content-type" "" { fileinto "empty"; }\n'
                  'if header :mime :type "content-type" "text" { fileinto "text"; }\n'
                  'if header :mime "content-type" "text/plain/stupid" { fileinto "plain-mime"; }\n',
                  ["empty", "plain-mime"], msg=msg)


def test_anychild_outside_a_loop_reads_every_part(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["mime", "fileinto"];\n'
                  # only the top level without :anychild
                  'if header :mime :type "content-type" "audio" { fileinto "top"; }\n'
                  'if header :mime :anychild :type "content-type" "audio" { fileinto "any"; }\n'
                  'if exists :mime :anychild ["content-disposition", "subject"] { fileinto "exists"; }\n'
                  'if exists :mime ["content-disposition"] { fileinto "top-exists"; }\n'
                  'if address :mime :anychild :domain "from" "example.com" { fileinto "inner-from"; }\n'
                  'if address :mime :domain "from" "example.com" { fileinto "top-from"; }\n',
                  ["any", "exists", "inner-from"])


def test_mime_errors(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "mime";\nif header :anychild "to" "x" { keep; }\n')
    assert any("the :anychild tag for the header test cannot be specified without the :mime tag"
               in e for e in errs), errs
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "mime";\nif header :mime :type :param "a" "content-type" "x" { keep; }\n')
    assert any("are mutually exclusive, but more than one was specified" in e for e in errs), errs
    # :type & co. belong to header only
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "mime";\nif exists :mime :type "to" { keep; }\n')
    assert any("unknown tagged argument ':type' for the exists test" in e for e in errs), errs


# ---- foreverypart and break ----

def test_foreverypart_visits_every_part_in_order(run_tamis, tmp_workdir):
    r = check_folders(run_tamis, tmp_workdir,
                      'require ["foreverypart", "mime", "variables", "fileinto"];\n'
                      'set "n" "0";\n'
                      'foreverypart {\n'
                      '  if header :mime :contenttype "content-type" "*" {}\n'
                      '  if header :mime :matches :contenttype "content-type" "*" { set "t" "${1}"; }\n'
                      '  else { set "t" "none"; }\n'
                      '  set "n" "${n}+";\n'
                      '  fileinto "${n}${t}";\n'
                      '}\n',
                      ["0+multipart/mixed", "0++multipart/alternative", "0+++text/plain",
                       "0++++text/html", "0+++++audio/mp3", "0++++++message/rfc822",
                       "0+++++++none"])


def test_nested_loop_visits_the_parts_below(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["foreverypart", "mime", "variables", "fileinto"];\n'
                  'foreverypart {\n'
                  '  if header :mime :subtype "content-type" "alternative" {\n'
                  '    foreverypart {\n'
                  '      if header :mime :matches :subtype "content-type" "*" { fileinto "in-${1}"; }\n'
                  '    }\n'
                  '  }\n'
                  '}\n',
                  ["in-plain", "in-html"])


def test_break_and_named_break(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["foreverypart", "mime", "variables", "fileinto"];\n'
                  'set "n" "";\n'
                  'foreverypart :name "outer" {\n'
                  '  set "n" "${n}o";\n'
                  '  foreverypart {\n'
                  '    set "n" "${n}i";\n'
                  '    if header :mime :type "content-type" "text" { break :name "outer"; }\n'
                  '  }\n'
                  '}\n'
                  'fileinto "${n}";\n'
                  'set "m" "";\n'
                  'foreverypart { set "m" "${m}x"; if header :mime :type "content-type" "audio" { break; } }\n'
                  'fileinto "${m}";\n',
                  ["oii", "xxxxx"])


def test_loop_without_parts_below_is_skipped(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["foreverypart", "variables", "fileinto"];\n'
                  'set "n" "";\n'
                  'foreverypart { set "n" "${n}o"; foreverypart { set "n" "${n}i"; } }\n'
                  'fileinto "${n}";\n',
                  ["o"], msg=PLAIN)


def test_foreverypart_errors(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir, 'require "foreverypart";\nbreak;\n')
    assert any("the break command is not placed inside a foreverypart loop" in e for e in errs), errs
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "foreverypart";\nforeverypart :name "a" { break :name "b"; }\n')
    assert any("not placed inside a foreverypart loop named `b'" in e for e in errs), errs
    nested = "foreverypart { " * 5 + "keep; " + "} " * 5
    errs = compile_errors(run_tamis, tmp_workdir, 'require "foreverypart";\n' + nested + "\n")
    assert any("the nested foreverypart loop exceeds the nesting limit (<= 4 levels)" in e
               for e in errs), errs
    errs = compile_errors(run_tamis, tmp_workdir, 'require "foreverypart";\nforeverypart;\n')
    assert errs, errs


def test_loop_depth_setting(run_tamis, tmp_workdir):
    nested = 'require "foreverypart";\n' + "foreverypart { " * 3 + "keep; " + "} " * 3 + "\n"
    errs = compile_errors(run_tamis, tmp_workdir, nested, extra=["-o", "sieve_max_loop_depth=2"])
    assert any("(<= 2 levels)" in e for e in errs), errs


def test_testsuite_loop_and_test_fail(run_tamis, tmp_workdir):
    # A test_fail inside a loop leaves it; the next test block starts
    # outside any loop (its :mime reads the message header again).
    body = ('require "vnd.dovecot.testsuite";\nrequire ["foreverypart", "mime"];\n'
            'test_set "message" text:\n' + MIXED.replace("\r\n", "\n") + '.\n;\n'
            'test "one" { foreverypart { if header :mime :type "content-type" "audio" '
            '{ test_fail "stop here"; } } }\n'
            'test "two" { if not header :mime :subtype "content-type" "mixed" '
            '{ test_fail "loop context leaked"; } }\n')
    t = write(tmp_workdir, "t.svtest", body)
    r = run_tamis("testsuite", t)
    assert "Test 'one' FAILED: stop here" in r.stdout, r
    assert "Test 'two' SUCCEEDED" in r.stdout, r


def test_included_script_returning_from_a_loop(run_tamis, tmp_workdir):
    # The included script sees the includer's current part; a return from
    # inside its own loop leaves no loop behind for the includer.
    write(tmp_workdir, "sub.sieve",
          'require ["foreverypart", "mime", "include", "fileinto"];\n'
          'if header :mime :type "content-type" "audio" { fileinto "sub-sees-audio"; }\n'
          'foreverypart { if header :mime :type "content-type" "text" { return; } }\n')
    s = write(tmp_workdir, "main.sieve",
              'require ["include", "foreverypart", "mime", "fileinto"];\n'
              'foreverypart { if header :mime :type "content-type" "audio" { include "sub"; } }\n'
              'include "sub";\n'
              'if header :mime :type "content-type" "multipart" { fileinto "top"; }\n'
              'foreverypart { if header :mime :type "content-type" "text" { fileinto "text-seen"; } }\n')
    m = write(tmp_workdir, "m.eml", MIXED)
    r = run_tamis("test", s, m, env={"HOME": str(tmp_workdir)})
    assert r.returncode == 0, r
    assert folders(r.stdout) == ["sub-sees-audio", "top", "text-seen"], r


# ---- extracttext ----

def test_extracttext_per_part(run_tamis, tmp_workdir):
    check_folders(run_tamis, tmp_workdir,
                  'require ["foreverypart", "extracttext", "variables", "mime", "fileinto", '
                  '"encoded-character"];\n'
                  'foreverypart {\n'
                  '  extracttext "t";\n'
                  '  if header :mime :type "content-type" "multipart" {\n'
                  '    if string :is "${t}" "" { fileinto "multipart-empty"; }\n'
                  '  } elsif header :mime :subtype "content-type" "html" {\n'
                  '    if string :contains "${t}" "missile  & coordinates" { fileinto "html-text"; }\n'
                  '    if string :contains "${t}" "<" { fileinto "html-markup"; }\n'
                  '  } elsif header :mime :subtype "content-type" "plain" {\n'
                  '    if string :is "${t}" "The project schedule, café." { fileinto "plain"; }\n'
                  '  }\n'
                  '}\n',
                  # (the two multiparts' identical fileinto actions merge)
                  ["multipart-empty", "plain", "html-text"])


def test_extracttext_first_and_modifiers(run_tamis, tmp_workdir):
    msg = "From: a@example.org\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße aus Köln\r\n"
    check_folders(run_tamis, tmp_workdir,
                  'require ["foreverypart", "extracttext", "variables", "fileinto"];\n'
                  'foreverypart {\n'
                  # :first counts octets, as Pigeonhole does ("ü" is two)...
                  '  extracttext :first 4 "a"; fileinto "${a}";\n'
                  # ... but never cuts a character in two
                  '  extracttext :upper :first 3 "b"; fileinto "${b}";\n'
                  '  extracttext :length :first 1000 "c"; fileinto "${c}";\n'
                  '}\n',
                  ["Grü", "GR", "16"], msg=msg)


def test_extracttext_errors(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require ["extracttext", "variables", "foreverypart"];\nextracttext "x";\n')
    assert any("the extracttext command is not placed inside a foreverypart loop" in e
               for e in errs), errs
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require ["extracttext", "foreverypart"];\n')
    assert any("extracttext extension cannot be used without variables extension" in e
               for e in errs), errs
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "extracttext";\nrequire "variables";\n')
    assert any("extracttext extension cannot be used without foreverypart extension" in e
               for e in errs), errs
    # the order of the requires does not matter
    s = write(tmp_workdir, "s.sieve",
              'require "extracttext";\nrequire ["foreverypart", "variables"];\n'
              'foreverypart { extracttext :lower "x"; }\n')
    m = write(tmp_workdir, "m.eml", PLAIN)
    assert run_tamis("test", s, m).returncode == 0
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require ["extracttext", "variables", "foreverypart"];\n'
                          'foreverypart { extracttext "1"; }\n')
    assert errs, errs


# ---- replace ----

RX = ["-x", "+replace +enclose"]


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def test_replace_and_enclose_are_not_on_by_default(run_tamis, tmp_workdir):
    for ext in ("replace", "enclose"):
        errs = compile_errors(run_tamis, tmp_workdir, f'require "{ext}";\n')
        assert any(f"unknown Sieve capability `{ext}'" in e for e in errs), errs


def test_replace_whole_message(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "mime", "body", "fileinto"];\n'
                   'replace :subject "Inhalt entfernt – ok" :from "Filter <filter@example.net>" '
                   '"The contents were removed.";\n'
                   'if not header :mime :anychild :type "content-type" "multipart" { fileinto "INBOX"; }\n'
                   'if body :text :is "The contents were removed." { fileinto "INBOX"; }\n',
                   extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    assert b"\r\nOriginal-Subject: report\r\n" in data
    assert data.startswith(b"Original-From: Alice <alice@example.org>\r\n")
    assert b"multipart" not in data and b"MIME-Version: 1.0\r\n" in data
    m = parse(data)
    assert m["Subject"] == "Inhalt entfernt – ok"
    assert m["From"] == "Filter <filter@example.net>"
    assert m["To"] == "bob@example.net"
    assert m.get_content_type() == "text/plain"
    assert m.get_content() == "The contents were removed."


def test_replace_in_loop_replaces_one_part(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "foreverypart", "mime", "variables", "fileinto"];\n'
                   'set "seen" "";\n'
                   'foreverypart {\n'
                   '  if header :mime :subtype "content-type" "alternative" {\n'
                   '    replace "Alternatives dropped.";\n'
                   '  }\n'
                   '  if header :mime :matches :subtype "content-type" "*" { set "seen" "${seen} ${1}"; }\n'
                   '}\n'
                   # the loop went on after the replaced part, not into its
                   # former sub-parts
                   'if string :is "${seen}" " mixed plain mp3 rfc822" { fileinto "INBOX"; }\n',
                   extra=RX, execute=True)
    assert r.returncode == 0, r
    assert folders(r.stdout) == ["INBOX"], r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    parts = [p.get_content_type() for p in m.walk()]
    assert parts == ["multipart/mixed", "text/plain", "audio/mp3", "message/rfc822", "text/plain"]
    assert list(m.iter_parts())[0].get_content() == "Alternatives dropped."
    # the rest is untouched
    assert data.endswith(b"--outer--\r\nThis is the epilogue.\r\n")
    assert b"Content-Type: audio/mp3\r\n" in data


def test_replace_mime_entity(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "foreverypart", "mime"];\n'
                   'foreverypart {\n'
                   '  if header :mime :type "content-type" "audio" {\n'
                   '    replace :mime text:\n'
                   'Content-Type: text/html; charset=utf-8\n'
                   '\n'
                   '<p>removed</p>\n'
                   '.\n'
                   ';\n'
                   '  }\n'
                   '}\n',
                   extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    third = list(m.iter_parts())[1]
    assert third.get_content_type() == "text/html"
    assert third.get_content().strip() == "<p>removed</p>"
    assert b"SUQzAwAAAAAA" not in data


def test_replacement_that_looks_like_a_boundary_is_encoded(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "foreverypart", "mime", "encoded-character"];\n'
                   'foreverypart { if header :mime :type "content-type" "audio" '
                   '{ replace "x${hex:0d 0a}--outer--${hex:0d 0a}y"; } }\n',
                   extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert len(list(m.iter_parts())) == 3
    assert list(m.iter_parts())[1].get_content() == "x\r\n--outer--\r\ny"


def test_actions_keep_the_message_they_saw(run_tamis, tmp_workdir):
    for box in ("before", "after"):
        for sub in ("cur", "new", "tmp"):
            (tmp_workdir / "Maildir" / ("." + box) / sub).mkdir(parents=True, exist_ok=True)
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "fileinto"];\n'
                   'fileinto "before";\n'
                   'replace "new text";\n'
                   'fileinto "after";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    assert stored(tmp_workdir, "before") == [PLAIN.encode()]
    (after,) = stored(tmp_workdir, "after")
    assert parse(after).get_content() == "new text"


def test_replace_from_checked(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "replace";\nreplace :from "not an address" "x";\n', extra=RX)
    assert any("invalid from address" in e for e in errs), errs


def test_edit_limit(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require "replace";\nreplace "1";\nreplace "2";\nreplace "3";\n',
                   msg=PLAIN, extra=RX + ["-o", "sieve_mime_max_edits=2"])
    assert r.returncode != 0 and "too many changes to the message (max 2)" in r.stderr, r


# ---- enclose ----

def test_enclose(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["enclose", "mime", "body", "fileinto"];\n'
                   'enclose :headers ["To", "X-Scan: suspicious"] "This message was quarantined.";\n'
                   'if header :mime :anychild :contenttype "content-type" "message/rfc822" '
                   '{ fileinto "INBOX"; }\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m.get_content_type() == "multipart/mixed"
    assert m["Subject"] == "plain"          # taken from the enclosed message
    assert m["To"] == "bob@example.net"     # copied by :headers
    assert m["X-Scan"] == "suspicious"      # added by :headers
    assert m["Date"] is not None and m["From"] is not None and m["Message-ID"] is not None
    text, inner = list(m.iter_parts())
    assert text.get_content() == "This message was quarantined."
    assert inner.get_content_type() == "message/rfc822"
    # the original message travels unchanged
    assert PLAIN.encode() in data


def test_enclose_twice_with_subject(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["enclose", "mime", "relational", "comparator-i;ascii-numeric", "fileinto"];\n'
                   'enclose :subject "first" "one";\n'
                   'enclose :subject "Zweite Hülle" "two";\n'
                   'if header :mime :anychild :contenttype :count "eq" :comparator "i;ascii-numeric" '
                   '"content-type" "6" { fileinto "INBOX"; }\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    assert folders(r.stdout) == ["INBOX"], r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Subject"] == "Zweite Hülle"
    inner = list(m.iter_parts())[1].get_content()
    assert inner["Subject"] == "first"


def test_enclose_header_check(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "enclose";\nenclose :headers ["Bad Name: x"] "t";\n', extra=RX)
    assert any("invalid header field" in e for e in errs), errs


# ---- RFC 5703's own examples and requirements (sections 5, 6 and 9) ----

EXE_MSG = ("From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: tools\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
           "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
           "--XX\r\nContent-Type: application/octet-stream\r\n"
           "Content-Disposition: attachment; filename=\"setup.com\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--XX--\r\n")


def test_rfc5703_example_replace_executable(run_tamis, tmp_workdir):
    # RFC 5703 section 9 (the replace example), quoted.
    r = run_script(run_tamis, tmp_workdir,
                   'require [ "foreverypart", "mime", "replace" ];\n'
                   'foreverypart\n'
                   '{\n'
                   '  if anyof (\n'
                   '         header :mime :contenttype :is\n'
                   '           "Content-Type" "application/exe",\n'
                   '         header :mime :param "filename"\n'
                   '           :matches ["Content-Type", "Content-Disposition"] "*.com" )\n'
                   '  {\n'
                   '    replace "Executable attachment removed by user filter";\n'
                   '  }\n'
                   '}\n',
                   msg=EXE_MSG, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    text, repl = list(m.iter_parts())
    assert text.get_content().strip() == "see attached"
    # without :mime the replacement is a text/plain part in UTF-8
    assert repl.get_content_type() == "text/plain"
    assert repl.get_content_charset() == "utf-8"
    assert repl.get_content() == "Executable attachment removed by user filter"
    assert b"TVqQ" not in data and m["Subject"] == "tools"


def test_rfc5703_example_enclose_warning(run_tamis, tmp_workdir):
    # RFC 5703 section 9 (the enclose example), quoted (text shortened).
    r = run_script(run_tamis, tmp_workdir,
                   'require [ "foreverypart", "mime", "enclose" ];\n'
                   'foreverypart\n'
                   '{\n'
                   '  if header :mime :param "filename"\n'
                   '     :matches ["Content-Type", "Content-Disposition"]\n'
                   '       ["*.com", "*.exe", "*.vbs", "*.scr",\n'
                   '        "*.pif", "*.hta", "*.bat", "*.zip" ]\n'
                   '  {\n'
                   '    # these attachment types are executable\n'
                   '    enclose :subject "Warning" text:\n'
                   'WARNING! The enclosed message contains executable attachments.\n'
                   '.\n'
                   ';\n'
                   '    break;\n'
                   '  }\n'
                   '}\n',
                   msg=EXE_MSG, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    # a multipart/mixed message: text/plain with the string, then the
    # original message as message/rfc822; Subject from :subject; Date and
    # From synthesized
    assert m.get_content_type() == "multipart/mixed"
    assert m["Subject"] == "Warning"
    assert m["Date"] is not None and m["From"] is not None
    text, inner = list(m.iter_parts())
    assert text.get_content_type() == "text/plain"
    assert text.get_content().startswith("WARNING! The enclosed message")
    assert inner.get_content_type() == "message/rfc822"
    assert EXE_MSG.encode() in data


def test_replace_original_fields_cannot_be_edited(run_tamis, tmp_workdir):
    # RFC 5703 section 5: with editheader, the Original-Subject and
    # Original-From fields added by replace cannot be modified or removed.
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "editheader"];\n'
                   'replace :subject "new" :from "filter@example.net" "gone";\n'
                   'deleteheader "Original-Subject";\n'
                   'deleteheader "original-from";\n'
                   'addheader "Original-Subject" "forged";\n'
                   'deleteheader "To";\n',
                   msg=PLAIN, extra=["-x", "+replace +enclose +editheader"], execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m.get_all("Original-Subject") == ["plain"]
    assert m["Original-From"] is not None
    assert m["To"] is None          # other fields stay editable
    # without a replace that added them they are ordinary fields
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "editheader", "fileinto"];\n'
                   'addheader "Original-Subject" "x";\ndeleteheader "Original-Subject";\n'
                   'if not exists "Original-Subject" { fileinto "INBOX"; }\n',
                   msg=PLAIN, extra=["-x", "+replace +enclose +editheader"])
    assert r.returncode == 0 and folders(r.stdout) == ["INBOX"], r


def test_enclose_does_not_affect_redirect(run_tamis, tmp_workdir):
    # RFC 5703 section 6: "This action does not affect messages that are
    # forwarded via a 'redirect' action."
    r = run_script(run_tamis, tmp_workdir,
                   'require ["enclose"];\n'
                   'enclose :subject "Warning" "wrapped";\n'
                   'redirect "carol@example.com";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    assert "START MESSAGE" in r.stdout, r
    sent = r.stdout.split("START MESSAGE", 1)[1]
    assert "multipart/mixed" not in sent and "Subject: plain" in sent, r


def test_extracttext_encodeurl_with_enotify(run_tamis, tmp_workdir):
    # enotify's :encodeurl modifier applies to extracttext too (as in
    # Pigeonhole), with its precedence among the others.
    msg = ("From: a@example.org\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
           "--BB\r\nContent-Type: text/plain\r\n\r\na b&c/d\r\n--BB--\r\n")
    check_folders(run_tamis, tmp_workdir,
                  'require ["foreverypart", "extracttext", "variables", "enotify", "fileinto"];\n'
                  'foreverypart { extracttext :encodeurl :upper "x"; fileinto "${x}"; }\n',
                  ["", "A%20B%26C%2FD"], msg=msg)
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require ["foreverypart", "extracttext", "variables"];\n'
                          'foreverypart { extracttext :encodeurl "x"; }\n')
    assert "unknown tagged argument ':encodeurl' for the extracttext command" in errs[0], errs


def test_digest_part_with_invalid_content_type_is_text_plain(run_tamis, tmp_workdir):
    # A multipart/digest part defaults to message/rfc822 only when it has
    # no Content-Type at all; an invalid one makes it text/plain (Dovecot),
    # so its body is not parsed as an embedded message.
    msg = ("From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/digest; boundary=BB\r\n\r\n"
           "--BB\r\nContent-Type: ;;bad\r\n\r\nSubject: inner\r\n\r\nhello\r\n"
           "--BB\r\n\r\nSubject: inner2\r\n\r\nhello2\r\n--BB--\r\n")
    check_folders(run_tamis, tmp_workdir,
                  'require ["mime", "fileinto", "foreverypart", "variables"];\n'
                  'foreverypart { if header :mime :matches "subject" "*" { fileinto "s-${1}"; } }\n',
                  ["s-x", "s-inner2"], msg=msg)


# ---- RFC 5703 sections 5 and 6, rule by rule ----
#
# Tamis's decisions (see the opening comments of sieve/ext/replace.c and
# enclose.c): later tests see the edited message; actions added later
# deliver it; redirect sends, and reject returns, the message as it was
# before the first replace/enclose, whatever path adds them; vacation
# answers the message as received.

RXL = ["-x", "+replace +enclose +extlists +editheader +vacation +reject"]
MYLIST = "tag:example.com,2010-05-28:mylist"


def sent(stdout):
    """The messages `tamis test -e` sent: {recipient: message text}."""
    out = {}
    for chunk in stdout.split("RECIPIENT: ")[1:]:
        rcpt, rest = chunk.split("\n", 1)
        body = rest.split("START MESSAGE:\n", 1)[1].split("END MESSAGE", 1)[0]
        out[rcpt.strip()] = body
    return out


def run_with_list(run_tamis, d, script, msg=PLAIN):
    write(d, "mylist", "list1@example.com\nlist2@example.com\n")
    extra = RXL + ["-o", f"sieve_extlists_list={MYLIST} {pathlib.Path(d) / 'mylist'}"]
    return run_script(run_tamis, d, script, msg=msg, extra=extra, execute=True)


def assert_unedited(text):
    """text is PLAIN as sent on (redirect adds fields on top only)."""
    assert text.replace("\r\n", "\n").endswith(PLAIN.replace("\r\n", "\n")), text
    assert "multipart/mixed" not in text and "Original-Subject" not in text, text


EDITS = {
    "replace": 'replace :subject "Replaced" :from "filter@example.net" "new text";\n',
    "enclose": 'enclose :subject "Warning" "wrapped";\n',
    "replace+enclose": 'replace :subject "Replaced" "new text";\nenclose "wrapped";\n',
}


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("redirect", ['redirect "carol@example.com";',
                                     'redirect :copy "carol@example.com";',
                                     f'redirect :list "{MYLIST}";',
                                     f'redirect :copy :list "{MYLIST}";'])
def test_every_redirect_sends_the_message_before_the_edits(run_tamis, tmp_workdir, edit, redirect):
    # RFC 5703 section 6: enclose "does not affect messages that are
    # forwarded via a redirect action"; replace likewise (RFC 5228 4.2).
    # One rule for every redirect path: plain, :copy, :list (extlists).
    r = run_with_list(run_tamis, tmp_workdir,
                      'require ["replace", "enclose", "extlists", "copy"];\n'
                      + EDITS[edit] + redirect + "\n")
    assert r.returncode == 0, r
    out = sent(r.stdout)
    expected = ({"list1@example.com", "list2@example.com"} if ":list" in redirect
                else {"carol@example.com"})
    assert set(out) == expected, r
    for text in out.values():
        assert_unedited(text)
    kept = stored(tmp_workdir)
    if ":copy" in redirect:
        # the implicit keep files the edited message
        (data,) = kept
        assert parse(data)["Subject"] in ("Replaced", "Warning"), data
    else:
        assert kept == []


def test_redirect_sends_the_message_as_it_was_before_the_first_edit(run_tamis, tmp_workdir):
    # An editheader change made before enclose stays; the enclosing
    # message and what was done to it afterwards do not.
    r = run_with_list(run_tamis, tmp_workdir,
                      'require ["enclose", "editheader"];\n'
                      'addheader "X-Before" "1";\n'
                      'enclose "wrapped";\n'
                      'addheader "X-After" "2";\n'
                      'redirect "carol@example.com";\n')
    assert r.returncode == 0, r
    text = sent(r.stdout)["carol@example.com"]
    assert "X-Before: 1" in text and "X-After" not in text and "multipart" not in text, text
    assert "Subject: plain" in text


@pytest.mark.parametrize("edit", ["replace", "enclose"])
@pytest.mark.parametrize("redirect", ['redirect "carol@example.com";',
                                     f'redirect :list "{MYLIST}";'])
def test_redirect_in_a_later_script_of_a_sequence(run_tamis, tmp_workdir, edit, redirect):
    # sieve_before edits the message; the after-script's redirect (also
    # redirect :list) still sends the message before the edit, while the
    # final keep files the edited one.
    d = tmp_workdir
    write(d, "mylist", "list1@example.com\nlist2@example.com\n")
    write(d, "before.sieve", f'require "{edit}";\n' + EDITS[edit])
    write(d, "user.sieve", "keep;\n")
    s = write(d, "after.sieve", 'require ["extlists", "copy"];\n'
              + redirect.replace("redirect ", "redirect :copy ") + "\n")
    m = write(d, "m.eml", PLAIN)
    md = make_maildir(pathlib.Path(d) / "Maildir")
    r = run_tamis("test", *RXL, "-o", f"sieve_extlists_list={MYLIST} {pathlib.Path(d) / 'mylist'}",
                  "-s", d / "before.sieve", "-s", d / "user.sieve", "-e", "-l", md, s, m)
    assert r.returncode == 0, r
    out = sent(r.stdout)
    assert len(out) == (2 if ":list" in redirect else 1), r
    for text in out.values():
        assert_unedited(text)
    (data,) = stored(d)
    m = parse(data)
    assert m["Subject"] == ("Replaced" if edit == "replace" else "Warning")


@pytest.mark.parametrize("edit", ["replace", "enclose"])
def test_reject_returns_the_message_before_the_edits(run_tamis, tmp_workdir, edit):
    # A rejection returns the sender's own message: its header in the
    # report, its Message-ID as Original-Message-ID.
    msg = PLAIN.replace("Subject: plain\r\n", "Subject: plain\r\nMessage-ID: <orig@example.org>\r\n")
    r = run_script(run_tamis, tmp_workdir,
                   f'require ["{edit}", "reject"];\n' + EDITS[edit] + 'reject "no";\n',
                   msg=msg, extra=RXL, execute=True)
    assert r.returncode == 0, r
    text = sent(r.stdout)["alice@example.org"]
    assert "Original-Message-ID: <orig@example.org>" in text, text
    returned = text.split("Content-Type: message/rfc822", 1)[1]
    assert "Subject: plain" in returned and "Original-Subject" not in returned, text
    assert "Warning" not in returned and "Replaced" not in returned, text


@pytest.mark.parametrize("edit", ["replace", "enclose"])
def test_vacation_answers_the_message_as_received(run_tamis, tmp_workdir, edit):
    r = run_script(run_tamis, tmp_workdir,
                   f'require ["{edit}", "vacation"];\n' + EDITS[edit] + 'vacation "away";\n',
                   msg=PLAIN, extra=RXL, execute=True)
    assert r.returncode == 0, r
    reply = sent(r.stdout)["alice@example.org"]     # not filter@example.net
    assert "Subject: Auto: plain" in reply, reply


def test_later_tests_and_actions_see_the_enclosing_message(run_tamis, tmp_workdir):
    # RFC 5703 section 6: after enclose, tests and actions operate on the
    # new message; fileinto before it keeps the message it saw.
    for box in ("before", "after"):
        for sub in ("cur", "new", "tmp"):
            (tmp_workdir / "Maildir" / ("." + box) / sub).mkdir(parents=True, exist_ok=True)
    r = run_script(run_tamis, tmp_workdir,
                   'require ["enclose", "fileinto", "body", "mime"];\n'
                   'fileinto "before";\n'
                   'enclose :subject "Warning" "wrapped";\n'
                   'if allof (header :is "subject" "Warning",\n'
                   '          header :mime :contenttype "content-type" "multipart/mixed",\n'
                   '          body :text :contains "wrapped") { fileinto "after"; }\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    assert folders(r.stdout) == ["before", "after"], r
    assert stored(tmp_workdir, "before") == [PLAIN.encode()]
    (after,) = stored(tmp_workdir, "after")
    assert parse(after)["Subject"] == "Warning"


def test_implicit_keep_files_the_edited_message(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir, 'require "enclose";\nenclose "wrapped";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    assert parse(data).get_content_type() == "multipart/mixed"


def test_replace_mime_for_the_whole_message(run_tamis, tmp_workdir):
    # :mime: the string is a MIME entity (RFC 2045 section 2.4), header
    # fields and content; for the whole message its fields join the
    # message's own non-MIME fields.
    r = run_script(run_tamis, tmp_workdir,
                   'require "replace";\n'
                   'replace :mime text:\n'
                   'Content-Type: text/html; charset=us-ascii\n'
                   'Content-Language: de\n'
                   '\n'
                   '<b>entfernt</b>\n'
                   '.\n'
                   ';\n',
                   msg=MIXED, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m.get_content_type() == "text/html"
    assert m["Content-Language"] == "de"
    assert m.get_content().strip() == "<b>entfernt</b>"
    assert m["Subject"] == "report" and m["From"] == "Alice <alice@example.org>"
    assert data.count(b"Content-Type:") == 1
    assert m.get_all("MIME-Version") == ["1.0"]
    assert b"boundary=outer" not in data and b"preamble" not in data


def test_replace_subject_encoded_only_when_not_ascii(run_tamis, tmp_workdir):
    # "implementations MUST convert the string to [RFC2047] encoded words
    # if and only if non-ASCII characters are present"
    r = run_script(run_tamis, tmp_workdir, 'require "replace";\nreplace :subject "Removed: 1" "x";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    assert b"\r\nSubject: Removed: 1\r\n" in data
    for f in (tmp_workdir / "Maildir" / "new").iterdir():
        f.unlink()
    r = run_script(run_tamis, tmp_workdir, 'require "replace";\nreplace :subject "Grüße" "x";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    assert b"\r\nSubject: =?utf-8?" in data and "Grüße".encode() not in data
    assert parse(data)["Subject"] == "Grüße"


def test_replace_defaults_keep_subject_and_from(run_tamis, tmp_workdir):
    # Without :subject/:from the header stays (all fields but the MIME
    # ones are preserved) and no Original-* field appears.
    r = run_script(run_tamis, tmp_workdir, 'require "replace";\nreplace "x";\n',
                   msg=MIXED, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Subject"] == "report" and m["From"] == "Alice <alice@example.org>"
    assert m["To"] == "bob@example.net"
    assert m["Original-Subject"] is None and m["Original-From"] is None
    assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"


def test_replace_subject_without_a_previous_subject(run_tamis, tmp_workdir):
    # "MUST preserve any previous Subject header": with none, there is no
    # Original-Subject to add.
    msg = "From: alice@example.org\r\nTo: bob@example.net\r\n\r\nbody\r\n"
    r = run_script(run_tamis, tmp_workdir, 'require "replace";\nreplace :subject "New" "x";\n',
                   msg=msg, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Subject"] == "New" and m["Original-Subject"] is None


def test_replace_subject_and_from_only_for_the_entire_message(run_tamis, tmp_workdir):
    # :subject and :from apply "if the entire message is being replaced";
    # replacing a part below the top leaves the header alone.
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "foreverypart", "mime"];\n'
                   'foreverypart {\n'
                   '  if header :mime :type "content-type" "audio" {\n'
                   '    replace :subject "S" :from "filter@example.net" "gone";\n'
                   '  }\n'
                   '}\n',
                   msg=MIXED, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Subject"] == "report" and m["From"] == "Alice <alice@example.org>"
    assert m["Original-Subject"] is None and m["Original-From"] is None
    assert list(m.iter_parts())[1].get_content() == "gone"
    # in a loop the top part is the entire message: there they apply
    for f in (tmp_workdir / "Maildir" / "new").iterdir():
        f.unlink()
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "foreverypart", "mime"];\n'
                   'foreverypart {\n'
                   '  if header :mime :subtype "content-type" "mixed" {\n'
                   '    replace :subject "S" "gone";\n'
                   '  }\n'
                   '}\n',
                   msg=MIXED, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Subject"] == "S" and m["Original-Subject"] == "report"
    assert m.get_content_type() == "text/plain" and m.get_content() == "gone"


def test_replace_from_is_a_mailbox_list(run_tamis, tmp_workdir):
    # "The string must specify a valid [RFC2822] mailbox-list."
    r = run_script(run_tamis, tmp_workdir,
                   'require "replace";\n'
                   'replace :from "Filter <filter@example.net>, \\"Ops, Team\\" <ops@example.net>" "x";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert [a.addr_spec for a in m["From"].addresses] == ["filter@example.net", "ops@example.net"]
    assert m["Original-From"] == "alice@example.org"
    # RFC 5322 section 3.6.2: several authors need a Sender (the first)
    assert b"\r\nSender: <filter@example.net>\r\n" in data, data
    # one author needs none
    for f in (tmp_workdir / "Maildir" / "new").iterdir():
        f.unlink()
    r = run_script(run_tamis, tmp_workdir, 'require "replace";\nreplace :from "f@example.net" "x";\n',
                   msg=PLAIN, extra=RX, execute=True)
    (data,) = stored(tmp_workdir)
    assert parse(data)["Sender"] is None
    # a display name in UTF-8 is RFC 2047-encoded, as vacation's :from
    for f in (tmp_workdir / "Maildir" / "new").iterdir():
        f.unlink()
    r = run_script(run_tamis, tmp_workdir, 'require "replace";\nreplace :from "Jürgen <j@example.net>" "x";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    assert b"\r\nFrom: =?utf-8?" in data and "Jürgen".encode() not in data
    assert parse(data)["From"].addresses[0].display_name == "Jürgen"
    # not a mailbox-list: a compile-time error (SHOULD) ...
    for bad in ("a@example.net,", "a@example.net, nobody", "Team: a@example.net;", ""):
        errs = compile_errors(run_tamis, tmp_workdir,
                              f'require "replace";\nreplace :from "{bad}" "x";\n', extra=RX)
        assert any("invalid from address" in e for e in errs), (bad, errs)


def test_replace_invalid_from_at_run_time_is_ignored(run_tamis, tmp_workdir):
    # "it is RECOMMENDED that values that fail such a validity check simply
    # be ignored rather than causing the replace action to fail"
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "variables"];\nset "f" "not an address";\n'
                   'replace :from "${f}" :subject "S" "x";\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    assert "ignoring invalid from address 'not an address'" in r.stderr, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["From"] == "alice@example.org" and m["Original-From"] is None
    assert m["Subject"] == "S" and m["Original-Subject"] == "plain"


def test_replace_twice_keeps_each_previous_subject(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "mime", "fileinto"];\n'
                   'replace :subject "R1" "first";\n'
                   'replace :subject "R2" "second";\n'
                   'if header :is "subject" "R2" { fileinto "INBOX"; }\n',
                   msg=PLAIN, extra=RX, execute=True)
    assert r.returncode == 0, r
    assert folders(r.stdout) == ["INBOX"], r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m.get_all("Original-Subject") == ["plain", "R1"]
    assert m.get_all("Subject") == ["R2"] and m.get_content() == "second"


def test_replace_then_enclose_encloses_the_replaced_message(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "enclose"];\n'
                   'replace :subject "Cleaned" "cleaned text";\n'
                   'enclose "see attachment";\n',
                   msg=MIXED, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Subject"] == "Cleaned"       # from the enclosed message
    text, inner = list(m.iter_parts())
    inner = inner.get_content()
    assert inner["Subject"] == "Cleaned" and inner["Original-Subject"] == "report"
    assert inner.get_content() == "cleaned text"


def test_enclose_then_replace_replaces_the_enclosing_message(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require ["replace", "enclose"];\n'
                   'enclose :subject "Warning" "see attachment";\n'
                   'replace "nothing left";\n',
                   msg=MIXED, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Subject"] == "Warning" and m.get_content_type() == "text/plain"
    assert m.get_content() == "nothing left" and b"report" not in data


def test_enclose_headers_copy_from_and_date(run_tamis, tmp_workdir):
    # Date and From "should be synthesized" unless given by :headers; a
    # listed field the message lacks is still made up (RFC 5322 needs
    # both); a name listed twice is copied once; the new message's MIME
    # fields are its own.
    msg = ("From: alice@example.org\r\nDate: Mon, 1 Jun 2009 10:00:00 +0000\r\n"
           "To: bob@example.net\r\nCc: carol@example.com\r\nSubject: plain\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n\r\nbody\r\n")
    r = run_script(run_tamis, tmp_workdir,
                   'require "enclose";\n'
                   'enclose :headers ["From", "Date", "cc", "Cc", "Content-Type"] "wrapped";\n',
                   msg=msg, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["From"] == "alice@example.org"
    assert b"\r\nDate: Mon, 1 Jun 2009 10:00:00 +0000\r\n" in data.split(b"\r\n\r\n", 1)[0]
    assert data.split(b"\r\n\r\n", 1)[0].count(b"Date:") == 1
    assert m.get_all("Cc") == ["carol@example.com"]
    assert m.get_content_type() == "multipart/mixed"
    assert m["To"] is None                 # not listed, not copied
    assert m.get_all("MIME-Version") == ["1.0"]
    # listed but absent: made up all the same
    nodate = msg.replace("Date: Mon, 1 Jun 2009 10:00:00 +0000\r\n", "")
    for f in (tmp_workdir / "Maildir" / "new").iterdir():
        f.unlink()
    r = run_script(run_tamis, tmp_workdir, 'require "enclose";\nenclose :headers ["Date"] "wrapped";\n',
                   msg=nodate, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["Date"] is not None and m["From"] is not None and m["Message-ID"] is not None


def test_enclose_message_rfc822_part_holds_the_message_unchanged(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir, 'require "enclose";\nenclose "wrapped";\n',
                   msg=MIXED, extra=RX, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["MIME-Version"] == "1.0"
    text, inner = list(m.iter_parts())
    assert text.get_content_type() == "text/plain" and text.get_content_charset() == "utf-8"
    assert inner.get_content_type() == "message/rfc822"
    assert MIXED.encode() in data
    assert m["Auto-Submitted"] is None     # filed for the user, not sent


# ---- RFC 5703's example scripts: compile, and the actions on a message ----

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "compile"
RFC5703_SCRIPTS = ("rfc5703-example1-replace.sieve", "rfc5703-example2-enclose.sieve",
                   "rfc5703-replace-usage.sieve", "rfc5703-enclose-usage.sieve")


def rfc5703_script(name):
    """One of RFC 5703's scripts as kept in the fuzz corpus: section 9's
    examples (verbatim) and the usage forms of sections 5 and 6.  Found by
    its first line, so that a renamed corpus file is still found."""
    first = {"rfc5703-example1-replace.sieve": "# RFC 5703 section 9.1 (Example 1)",
             "rfc5703-example2-enclose.sieve": "# RFC 5703 section 9.2 (Example 2)",
             "rfc5703-replace-usage.sieve": "# RFC 5703 section 5: replace",
             "rfc5703-enclose-usage.sieve": "# RFC 5703 section 6: enclose"}[name]
    hits = [p for p in sorted(CORPUS.glob("*.sieve")) if p.read_text(errors="replace").startswith(first)]
    assert hits, f"{name} is not in {CORPUS}"
    return hits[0]


@pytest.mark.parametrize("name", RFC5703_SCRIPTS)
def test_rfc5703_scripts_compile(run_tamis, tmp_workdir, name):
    r = run_tamis("compile", *RX, rfc5703_script(name), tmp_workdir / "out.svbin")
    assert r.returncode == 0, r


@pytest.mark.parametrize("name,expect", [
    ("rfc5703-example1-replace.sieve", "Executable attachment removed by user filter"),
    ("rfc5703-example2-enclose.sieve", "WARNING! The enclosed message contains executable"),
])
def test_rfc5703_examples_actions(run_tamis, tmp_workdir, name, expect):
    # tamis test: the edit is no action of its own; the implicit keep
    # files the edited message.
    script = rfc5703_script(name)
    m = write(tmp_workdir, "m.eml", EXE_MSG)
    r = run_tamis("test", *RX, script, m)
    assert r.returncode == 0, r
    assert r.stdout == ("\nPerformed actions:\n\n  (none)\n\nImplicit keep:\n\n"
                        " * store message in folder: INBOX\n\n"), r
    md = make_maildir(tmp_workdir / "Maildir")
    r = run_tamis("test", *RX, "-e", "-l", md, script, m)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    assert expect.encode() in data
    assert b"TVqQ" in data if "enclose" in name else b"TVqQ" not in data


def test_enclose_in_a_loop_goes_on_with_the_parts_after_the_current_one(run_tamis, tmp_workdir):
    # RFC 5703 section 9.2's script without its break: after enclose the
    # loop goes on with the original message's next parts (now inside the
    # message/rfc822 part), not into the new parts or the enclosed copy
    # of the part it was at; each matching part encloses once more (section
    # 6: "the message is enclosed multiple times").
    two = EXE_MSG.replace("--XX--\r\n",
                          "--XX\r\nContent-Type: application/octet-stream\r\n"
                          "Content-Disposition: attachment; filename=\"run.bat\"\r\n\r\nx\r\n--XX--\r\n")
    script = ('require ["foreverypart", "mime", "enclose", "variables", "fileinto"];\n'
              'set "seen" "";\n'
              'foreverypart {\n'
              '  if header :mime :param "filename" :matches "Content-Disposition" ["*.com", "*.bat"] {\n'
              '    enclose :subject "Warning" "executable attachment";\n'
              '  }\n'
              '  if header :mime :matches :subtype "content-type" "*" { set "seen" "${seen} ${1}"; }\n'
              '}\n'
              'fileinto "${seen}";\n')
    for msg, seen, depth in ((EXE_MSG, " mixed plain octet-stream", 1),
                             (two, " mixed plain octet-stream octet-stream", 2)):
        r = run_script(run_tamis, tmp_workdir, script, msg=msg, extra=RX)
        assert r.returncode == 0, r
        assert folders(r.stdout) == [seen], r
        md = tmp_workdir / "Maildir"
        for f in md.glob("*/*"):
            f.unlink()
        r = run_script(run_tamis, tmp_workdir, script.replace('fileinto "${seen}";\n', ''),
                       msg=msg, extra=RX, execute=True)
        assert r.returncode == 0, r
        (data,) = stored(tmp_workdir)
        m = parse(data)
        for _ in range(depth):
            assert m.get_content_type() == "multipart/mixed" and m["Subject"] == "Warning"
            m = list(m.iter_parts())[1].get_content()
        assert m.get_content_type() == "multipart/mixed" and m["Subject"] == "tools"


def test_editheader_after_enclose_edits_the_enclosing_message(run_tamis, tmp_workdir):
    # RFC 5703 section 6: actions affecting the header after enclose work
    # on the new message; the enclosed one travels unchanged.
    r = run_script(run_tamis, tmp_workdir,
                   'require ["enclose", "editheader"];\n'
                   'enclose :subject "Warning" "wrapped";\n'
                   'addheader "X-Quarantine" "yes";\n'
                   'deleteheader "Subject";\n'
                   'keep;\n',
                   msg=PLAIN, extra=RXL, execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir)
    m = parse(data)
    assert m["X-Quarantine"] == "yes" and m["Subject"] is None
    inner = list(m.iter_parts())[1].get_content()
    assert inner["Subject"] == "plain" and inner["X-Quarantine"] is None
    assert PLAIN.encode() in data

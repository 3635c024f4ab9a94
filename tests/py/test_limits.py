"""Admin-set limits on script structure: each is configurable, has a safe
default, and stops a script that passes it with a clear compile error."""
import pathlib


def compile_src(run_tamis, d, src, *opts):
    p = pathlib.Path(d) / "lim.sieve"
    p.write_text(src)
    return run_tamis("compile", *opts, p)


def nested_blocks(n):
    return "if true { " * n + "keep;" + " }" * n + "\n"


def nested_tests(n):
    return "if " + "not " * n + "false { keep; }\n"


def test_block_nesting_default_and_setting(run_tamis, tmp_workdir):
    assert compile_src(run_tamis, tmp_workdir, nested_blocks(10)).returncode == 0
    r = compile_src(run_tamis, tmp_workdir, nested_blocks(10), "-o", "sieve_max_block_nesting=4")
    assert r.returncode == 1
    assert "cannot nest command blocks deeper than 4 levels" in r.stderr


def test_block_nesting_parser_ceiling(run_tamis, tmp_workdir):
    r = compile_src(run_tamis, tmp_workdir, nested_blocks(40))
    assert r.returncode == 1
    assert "cannot nest command blocks deeper than 32 levels" in r.stderr


def test_test_nesting_default_and_setting(run_tamis, tmp_workdir):
    assert compile_src(run_tamis, tmp_workdir, nested_tests(10)).returncode == 0
    r = compile_src(run_tamis, tmp_workdir, nested_tests(10), "-o", "sieve_max_test_nesting=5")
    assert r.returncode == 1
    assert "cannot nest tests deeper than 5 levels" in r.stderr


def test_script_size_limit(run_tamis, tmp_workdir):
    src = "# " + "x" * 5000 + "\nkeep;\n"
    assert compile_src(run_tamis, tmp_workdir, src).returncode == 0
    r = compile_src(run_tamis, tmp_workdir, src, "-o", "sieve_max_script_size=1k")
    assert r.returncode == 1
    assert "sieve script is too large (max 1024 bytes)" in r.stderr


def test_variable_count_limit(run_tamis, tmp_workdir):
    src = 'require "variables";\n' + "".join(f'set "v{i}" "x";\n' for i in range(300))
    r = compile_src(run_tamis, tmp_workdir, src)
    assert r.returncode == 1, r
    assert "exceeds the limit" in r.stderr

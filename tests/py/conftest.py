"""Shared fixtures for Tamis's CLI and server tests.

The binary under test comes from the environment variable TAMIS (set by
`make test` / scripts/run-tests.sh to $BUILD/tamis), else build/tamis in the
source tree.  When it is missing, every test is skipped with one clear reason.

Fixtures:
  tamis        absolute path of the binary (str)
  tmp_workdir  a fresh, empty folder (pathlib.Path) to run in
  run_tamis    run_tamis(*args, input=None, cwd=None, env=None, timeout=30)
               -> Result(args, returncode, stdout, stderr); cwd defaults to
               tmp_workdir
"""
import os
import pathlib
import signal
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TAMIS = os.path.abspath(os.environ.get("TAMIS") or str(ROOT / "build" / "tamis"))


def tamis_available():
    return os.path.isfile(TAMIS) and os.access(TAMIS, os.X_OK)


class Result:
    """What one run of the CLI did."""

    def __init__(self, args, returncode, stdout, stderr):
        self.args = list(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def output(self):
        """stdout and stderr together, for checks that do not care which."""
        return self.stdout + self.stderr

    def __repr__(self):
        rc = self.returncode
        if rc < 0:
            try:
                rc = f"{rc} ({signal.Signals(-rc).name})"
            except ValueError:
                pass
        return (f"<tamis {' '.join(map(str, self.args))}: exit {rc}\n"
                f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}>")


def run_cli(tamis, *args, input=None, cwd=None, env=None, timeout=30):
    """Run the tamis binary with args and capture everything it printed.

    input may be str or bytes (stdin is /dev/null when it is None); env
    entries are added to the current environment.  Output is decoded as
    UTF-8 with replacement so that a test can always print it.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update({k: str(v) for k, v in env.items()})
    if isinstance(input, str):
        input = input.encode()
    cmd = [tamis] + [str(a) for a in args]
    p = subprocess.run(cmd, input=input,
                       stdin=subprocess.DEVNULL if input is None else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       cwd=None if cwd is None else str(cwd), env=full_env,
                       timeout=timeout)
    return Result(args, p.returncode,
                  p.stdout.decode("utf-8", "replace"),
                  p.stderr.decode("utf-8", "replace"))


def pytest_report_header(config):
    state = "ok" if tamis_available() else "MISSING: every test will be skipped"
    return f"tamis binary: {TAMIS} ({state})"


def pytest_collection_modifyitems(config, items):
    if tamis_available():
        return
    skip = pytest.mark.skip(
        reason=f"tamis binary not found at {TAMIS}: run `make`, or set TAMIS=/path/to/tamis")
    for item in items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def tamis():
    if not tamis_available():
        pytest.skip(f"tamis binary not found at {TAMIS}")
    return TAMIS


def make_maildir(md):
    """Creates the Maildir md (cur, new, tmp), as the tests that run
    `tamis test -e -l md` need it; returns md."""
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True, exist_ok=True)
    return md


@pytest.fixture
def tmp_workdir(tmp_path):
    d = tmp_path / "work"
    d.mkdir()
    return d


@pytest.fixture
def run_tamis(tamis, tmp_workdir):
    def run(*args, input=None, cwd=None, env=None, timeout=30):
        return run_cli(tamis, *args, input=input,
                       cwd=tmp_workdir if cwd is None else cwd,
                       env=env, timeout=timeout)
    return run

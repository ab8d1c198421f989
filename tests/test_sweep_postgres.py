"""The distributed path for real: a PostgreSQL server on localhost, made for this test in a
temp dir (initdb / pg_ctl as the ``postgres`` user: the server refuses root), one sweep with
two worker processes against it, then everything removed."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest
from sweep_helpers import assert_ran_exactly_once, launcher, run_to_end, tiny_sweep

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """As the postgres user when we are root (initdb and postgres refuse root), else as ourselves."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture
def postgres_url():
    if not BIN:
        pytest.skip("PostgreSQL binaries are absent (/usr/lib/postgresql/*/bin); `.ci/run` installs them "
                    "with apt-get install postgresql")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as")
    pytest.importorskip("psycopg2", reason="the PostgreSQL driver (psycopg2-binary) is not installed")
    bindir = Path(BIN[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="sweep-pg-"))  # under /tmp: the postgres user must reach it
    data, port = root / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    try:
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"])
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60",
                      "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off", "start"])
        try:
            _as_postgres([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "sweeps"])
            yield f"postgresql://postgres@127.0.0.1:{port}/sweeps"
        finally:
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert not root.exists()


def test_two_workers_against_a_real_postgresql_server_run_every_point_exactly_once(postgres_url, tmp_path):
    d = tiny_sweep("pg", fields={"model.hidden_size": [4, 6], "train.seed": [0, 1]})
    la = launcher(d, tmp_path, storage=postgres_url)
    run_to_end(la)
    assert len(la.processes) == 2
    assert_ran_exactly_once(d, la, tmp_path)
    assert not (tmp_path / "sweeps.db").exists()  # the study lives on the server
    study = optuna.load_study(study_name="pg", storage=la.storage)  # postgresql+<installed driver>
    assert len(study.trials) == d.total
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2  # both workers took trials

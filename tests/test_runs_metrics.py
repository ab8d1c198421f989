"""One metrics schema, generated from StepReport; rows strictly increasing; torn lines ignored;
resuming drops the rows past the checkpoint."""

import dataclasses
import math
import typing

import numpy as np

from explorer.core.lab.metrics import METRIC_COLUMNS, MetricsTail, MetricsWriter, parse_metrics, read_metrics
from explorer.core.lab.reports import StepReport


def test_the_columns_are_the_reports_number_fields():
    hints = typing.get_type_hints(StepReport)
    numbers = [f.name for f in dataclasses.fields(StepReport)
               if hints[f.name] in (int, float, int | None, float | None)]
    assert list(METRIC_COLUMNS) == numbers
    assert {"step", "loss", "heldout_loss", "lr", "grad_norm", "elapsed_s"} <= set(METRIC_COLUMNS)
    assert not {"probe", "grad_flow", "param_grad_norms", "status", "message", "full", "done"} & set(METRIC_COLUMNS)


def _report(step, **values):
    return StepReport(step, full=True, loss=1.0 / step, **values)


def test_rows_strictly_increase_and_values_round_trip(tmp_path):
    path = tmp_path / "m.csv"
    with MetricsWriter(path) as writer:
        assert writer.write(_report(2, lr=0.1 + 0.2))
        assert not writer.write(StepReport(3))  # not a full report: no row
        assert not writer.write(_report(2))  # a repeated step
        assert writer.write(_report(4, heldout_loss=math.inf, grad_norm=math.nan))
        assert not writer.write(_report(3))  # going backwards
    data = read_metrics(path)
    assert data["step"].tolist() == [2, 4] and data["lr"][0] == 0.1 + 0.2  # repr: exact round trip
    assert math.isnan(data["lr"][1]) and data["heldout_loss"][1] == math.inf and math.isnan(data["grad_norm"][1])


def test_a_torn_last_line_is_ignored_and_cut_on_append(tmp_path):
    path = tmp_path / "m.csv"
    with MetricsWriter(path) as writer:
        for step in (1, 2, 3):
            writer.write(_report(step))
    whole = path.read_bytes()
    path.write_bytes(whole + b"4,0,,0.25,0.2")  # a row cut short (power loss, full disk)
    assert read_metrics(path)["step"].tolist() == [1, 2, 3]
    with MetricsWriter(path, append=True) as writer:
        assert writer.last_step == 3
        writer.write(_report(4))
    assert path.read_bytes().count(b"\n") == 5 and read_metrics(path)["step"].tolist() == [1, 2, 3, 4]


def test_resuming_drops_the_rows_past_the_checkpoint(tmp_path):
    path = tmp_path / "m.csv"
    with MetricsWriter(path) as writer:
        for step in range(1, 11):
            writer.write(_report(step))
    with MetricsWriter(path, append=True, after_step=6) as writer:
        assert writer.last_step == 6
        for step in range(5, 9):
            writer.write(_report(step))
    assert read_metrics(path)["step"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [p.name for p in tmp_path.iterdir()] == ["m.csv"]  # no temp file left behind


def test_an_older_schema_reads_by_header_and_is_upgraded_on_append(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("step,loss,heldout_loss\n10,0.5,\n20,0.25,0.3\n")
    data = read_metrics(path)
    assert data["loss"].tolist() == [0.5, 0.25] and np.isnan(data["lr"]).all()
    with MetricsWriter(path, append=True) as writer:
        writer.write(_report(30))
    assert path.read_text().splitlines()[0] == ",".join(METRIC_COLUMNS)
    assert read_metrics(path)["step"].tolist() == [10, 20, 30]


def test_damaged_lines_are_skipped():
    text = ",".join(METRIC_COLUMNS) + "\n" + "1" + "," * (len(METRIC_COLUMNS) - 1) + "\n" + "x,y\n" + "\n"
    assert parse_metrics(text)["step"].tolist() == [1]
    assert parse_metrics("")["step"].tolist() == []
    bad = ",".join(METRIC_COLUMNS) + "\n" + "2,oops" + "," * (len(METRIC_COLUMNS) - 2) + "\n"
    assert parse_metrics(bad)["step"].tolist() == [2]


def test_a_growing_file_is_read_incrementally_and_a_rewrite_from_the_start(tmp_path):
    path = tmp_path / "m.csv"
    tail = MetricsTail(path)
    assert tail.read()["step"].tolist() == []
    writer = MetricsWriter(path)
    for step in (1, 2):
        writer.write(_report(step))
    assert tail.read()["step"].tolist() == [1, 2]
    with open(path, "ab") as fh:
        fh.write(b"3,0")  # a row being written: not yet
    assert tail.read()["step"].tolist() == [1, 2]
    with open(path, "ab") as fh:
        fh.write(b"," * (len(METRIC_COLUMNS) - 2) + b"\n")
    writer.close()
    first = tail.read()
    assert first["step"].tolist() == [1, 2, 3] and not first["step"].flags.writeable
    with MetricsWriter(path, append=True, after_step=1) as again:  # a resume: the file is replaced
        again.write(_report(5))
    assert tail.read()["step"].tolist() == [1, 5]
    assert read_metrics(path)["step"].tolist() == [1, 5]

"""The custom cell's editor in the Model form: presets round-trip, problems are marked on their
field at their column, rows are added and removed, the editor follows cell = custom, is read-only
while training, and its dry run of step 0 answers from a worker."""

import dataclasses

import pytest
from PySide6.QtCore import Qt

from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.custom_cell import INITS, CustomCell
from explorer.core.presets import list_presets, load_preset

pytestmark = pytest.mark.gui

CUSTOM_PRESETS = [name for name in list_presets("train") if load_preset("train", name)["model"]["cell"] == "custom"]


@pytest.fixture
def forms(qtbot):
    from explorer.gui.experiment_forms import ExperimentForms

    w = ExperimentForms()
    qtbot.addWidget(w)
    w.show()
    w.setCurrentIndex(1)  # the Model tab
    yield w
    assert w.shutdown()  # no dry run left on its thread


def preset(name):
    return ExperimentConfig.from_dict(load_preset("train", name))


def settle(qtbot, editor):
    """Wait for the live check of what the editor shows now (the dry run ends on a worker)."""
    qtbot.waitUntil(editor.checker.is_current, timeout=60_000)
    return editor.checker.last


def test_every_custom_preset_is_found():
    assert {"vanilla_by_hand", "one_unit_accumulator", "minimal_gated_unit", "indrnn"} <= set(CUSTOM_PRESETS)


@pytest.mark.parametrize("name", CUSTOM_PRESETS)
def test_a_custom_preset_goes_through_the_editor_and_comes_back_the_same(qtbot, forms, name):
    config = preset(name)
    forms.set_config(config)
    editor = forms.cell_editor
    assert not editor.isHidden() and editor.isVisible()
    cell = config.model.custom
    assert len(editor.params.rows) == len(cell.params) and len(editor.variables.rows) == len(cell.variables)
    assert [editor.expressions[s].text() for s in cell.states] == list(cell.expressions)
    assert editor.params.field_widget(0, "init").currentText() == cell.params[0].init
    back, problems = forms.config()
    assert problems == [] and back == config
    assert not settle(qtbot, editor).problems  # the preset's step 0 runs
    assert editor.status.text().startswith("✓ step 0 runs")


def test_a_matrix_of_the_wrong_shape_is_named_under_the_expression_at_its_column(qtbot, forms):
    forms.set_config(preset("vanilla_by_hand"))
    editor = forms.cell_editor
    editor.params.field_widget(1, "shape").setText("H, I")  # W_hh (H, I): h_tm1 @ W_hh.T cannot multiply
    verdict = settle(qtbot, editor)
    [problem] = verdict.problems
    edit = editor.expressions["h"]
    column = edit.text().index("h_tm1 @ W_hh.T") + 1
    assert problem.field == "model.custom.expressions[0]" and problem.column == column
    assert edit.property("problemColumn") == column and "W_hh" in edit.property("problem")
    assert edit.cursorPosition() >= column - 7  # scrolled to the fault (setText left it at the start)
    message = editor.expression_messages["h"]
    assert message.isVisible() and f"column {column}" in message.text()
    assert "W_hh is (64, 1) from its shape 'H, I'" in message.text()
    assert forms.tabText(1) == "Model ⚠"
    config, problems = forms.config()  # Play and Save refuse it, with the same problem marked
    assert config is None and problems == [problem] and message.isVisible()

    editor.params.field_widget(1, "shape").setText("H, H")  # fixed: every mark goes
    assert not settle(qtbot, editor).problems
    assert edit.property("problem") is None and not message.isVisible() and forms.tabText(1) == "Model"
    assert forms.config()[0] == preset("vanilla_by_hand")


def test_a_shape_problem_is_marked_on_the_shape_at_its_column_and_under_its_row(qtbot, forms):
    forms.set_config(preset("indrnn"))
    editor = forms.cell_editor
    shape = editor.params.field_widget(0, "shape")
    shape.setText("I,  Q")
    [problem] = settle(qtbot, editor).problems
    assert problem.field == "model.custom.params[0].shape" and problem.column == 5
    assert shape.property("problemColumn") == 5 and "'Q'" in shape.property("problem")
    row = editor.params.rows[0].message
    assert row.isVisible() and row.text().startswith("shape, column 5: unknown name 'Q'")
    assert not editor.params.rows[1].message.isVisible()  # the other rows stay clean


def test_a_scale_that_is_not_a_number_and_a_taken_name_are_marked_on_their_fields(qtbot, forms):
    forms.set_config(preset("vanilla_by_hand"))
    editor = forms.cell_editor
    editor.params.field_widget(0, "scale").setText("a lot")
    editor.params.field_widget(2, "name").setText("x")
    config, problems = forms.config()
    assert config is None and {p.field for p in problems} == {"model.custom.params[0].scale"}  # unreadable first
    assert "not a number" in editor.params.rows[0].message.text()
    editor.params.field_widget(0, "scale").setText("0.2")
    config, problems = forms.config()
    assert config is None and [p.field for p in problems] == ["model.custom.params[2].name"]
    assert editor.params.rows[2].message.text().startswith("name 'x' is taken")
    assert editor.params.field_widget(2, "name").property("problem") is not None


def test_parameter_rows_are_added_moved_and_removed(qtbot, forms):
    config = preset("indrnn")
    forms.set_config(config)
    editor = forms.cell_editor
    qtbot.mouseClick(editor.add_param, Qt.MouseButton.LeftButton)
    assert len(editor.params.rows) == 4
    new = editor.params.rows[3]
    assert new.fields["name"].text() not in {"W", "u", "b"} and new.fields["init"].currentText() == INITS[0]
    new.fields["shape"].setText("H, H")
    back, problems = forms.config()
    assert not problems and back.model.custom.params[3].name == new.fields["name"].text()
    assert back.model.custom.params[3].shape == "H, H"

    editor.params.move_row(3, -1)  # the ↑ button's move
    assert [p.name for p in forms.config()[0].model.custom.params][2:] == [new.fields["name"].text(), "b"]
    editor.params.remove_row(2)  # ✕
    assert forms.config()[0] == config

    qtbot.mouseClick(editor.add_variable, Qt.MouseButton.LeftButton)
    editor.variables.rows[0].fields["expression"].setText("relu(x @ W + u * h_tm1 + b)")
    editor.expressions["h"].setText(editor.variables.rows[0].fields["name"].text())
    back, problems = forms.config()
    assert not problems and back.model.custom.variables[0].expression == "relu(x @ W + u * h_tm1 + b)"
    assert not settle(qtbot, editor).problems  # the variable feeds the state: step 0 runs


def test_choosing_custom_fills_in_a_vanilla_rnn_and_another_cell_hides_it(qtbot, forms):
    config = preset("default")
    forms.set_config(config)
    editor, cell = forms.cell_editor, forms.forms["model"].editors["cell"]
    assert config.model.custom is None and editor.isHidden()
    cell.setCurrentText("custom")
    assert editor.isVisible() and forms.config()[0].model.custom == CustomCell()
    editor.expressions["h"].setText("relu(x @ W_ih.T + h_tm1 @ W_hh.T + b)")
    assert not settle(qtbot, editor).problems
    cell.setCurrentText("gru")
    assert editor.isHidden()
    back, problems = forms.config()
    assert not problems and back.model.cell == "gru" and back.model.custom is None  # as loaded
    cell.setCurrentText("custom")  # the draft is still there
    assert forms.config()[0].model.custom.expressions == ("relu(x @ W_ih.T + h_tm1 @ W_hh.T + b)",)


def test_two_states_show_the_c_expression(qtbot, forms):
    forms.set_config(preset("vanilla_by_hand"))
    editor = forms.cell_editor
    assert editor.expressions["c"].isHidden()
    editor.states.setCurrentIndex(editor.states.findText("h and c"))
    assert editor.expressions["c"].isVisible()
    editor.expressions["c"].setText("0.9 * c_tm1 + h_tm1")
    editor.expressions["h"].setText("tanh(x @ W_ih.T + (b_ih + b_hh) + c_tm1 @ W_hh.T)")
    back, problems = forms.config()
    assert not problems and back.model.custom.states == ("h", "c")
    assert back.model.custom.expressions[1] == "0.9 * c_tm1 + h_tm1"
    editor.expressions["c"].setText("c_tm1 @ W_ih")  # (B, H) @ (H, I): c keeps no (B, H) shape
    [problem] = settle(qtbot, editor).problems
    assert problem.field == "model.custom.expressions[1]" and editor.expression_messages["c"].isVisible()


def test_the_cell_is_read_only_while_training(qtbot, forms):
    forms.set_config(preset("vanilla_by_hand"))
    editor = forms.cell_editor
    forms.set_running(True)
    fields = [w for rows in (editor.params, editor.variables) for r in rows.rows for w in r.fields.values()]
    assert fields and not any(w.isEnabled() for w in fields)
    assert not any(w.isEnabled() for w in (editor.states, editor.add_param, editor.add_variable,
                                           editor.expressions["h"]))
    forms.set_config(preset("minimal_gated_unit"))  # a resumed run shows its checkpoint's cell: still read-only
    assert not editor.params.field_widget(5, "shape").isEnabled() and not editor.variables.field_widget(0, "name") \
        .isEnabled()
    forms.set_running(False)
    assert editor.params.field_widget(0, "shape").isEnabled() and editor.add_param.isEnabled()
    assert editor.params.field_widget(1, "scale").isEnabled()  # U_f is uniform: scale is read
    assert not editor.params.field_widget(2, "scale").isEnabled()  # b_f is zeros: nothing reads its scale


def test_the_dry_run_answers_from_a_worker_while_the_window_stays_live(qtbot, forms):
    forms.set_config(preset("minimal_gated_unit"))
    editor = forms.cell_editor
    with qtbot.waitSignal(editor.checker.previewed, timeout=10_000):  # the structure passed, on the GUI thread
        editor.params.field_widget(0, "shape").setText("H, I")  # W_f (H, I) in x @ W_f: wrong
    assert not editor.checker.last.complete and editor.status.text() == "checking step 0…"
    with qtbot.waitSignal(editor.checked, timeout=60_000) as blocker:  # then the worker's verdict
        pass
    [problem] = blocker.args[0].problems
    assert problem.field == "model.custom.variables[0].expression" and "W_f is (32, 1)" in problem.message
    assert editor.variables.field_widget(0, "expression").property("problemColumn") == problem.column
    assert "W_f is (32, 1)" in editor.variables.rows[0].message.text()


def test_the_dry_run_follows_the_task_and_the_hidden_size(qtbot, forms):
    config = preset("one_unit_accumulator")  # w: "1" times x: fits I = 1 and H = 1 only
    forms.set_config(dataclasses.replace(config, model=dataclasses.replace(config.model, hidden_size=4)))
    editor = forms.cell_editor
    assert not settle(qtbot, editor).problems and "I = 1, H = 4" in editor.status.text()
    forms.forms["task"].editors["name"].setCurrentText("copy")  # 10 inputs: w * x is (B, 10), not (B, 4)
    [problem] = settle(qtbot, editor).problems
    assert problem.field == "model.custom.expressions[0]" and "(2, 4)" in problem.message
    forms.forms["task"].editors["name"].setCurrentText("cumsum")
    hidden = forms.forms["model"].editors["hidden_size"]
    hidden.clear()
    qtbot.keyClicks(hidden, "8")  # typed, as the form sees an edit
    assert not settle(qtbot, editor).problems and "I = 1, H = 8" in editor.status.text()
    hidden.selectAll()
    qtbot.keyClick(hidden, Qt.Key.Key_Backspace)  # no hidden size: the dry run waits for one
    assert not settle(qtbot, editor).problems and "waits for" in editor.status.text()

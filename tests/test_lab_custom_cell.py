"""Custom cells: written in the expression language, checked field by field, trained by the same
Trainer as the built-in cells (flow, probes, checkpoints included)."""

import dataclasses

import pytest
import torch

from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.custom_cell import CellParam, CellVariable, CustomCell
from explorer.core.lab.custom_rnn import check_cell, check_layers
from explorer.core.lab.training import Trainer
from explorer.core.presets import load_preset


def preset(name, **train):
    config = ExperimentConfig.from_dict(load_preset("train", name))
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **train))


def run(config):
    trainer = Trainer(config)
    reports = [r for r in trainer.reports() if r.full]
    return trainer, reports


def test_vanilla_by_hand_trains_exactly_like_the_builtin_vanilla():
    custom = preset("vanilla_by_hand", steps=100, report_every=1, eval_every=50, probe_every=50, flow_every=50)
    builtin = dataclasses.replace(custom, model=dataclasses.replace(custom.model, cell="vanilla", custom=None,
                                                                    backend="scan"))
    (tc, rc), (tb, rb) = run(custom), run(builtin)
    assert len(rc) == len(rb) >= 100
    for a, b in zip(rc, rb):
        assert a.loss == pytest.approx(b.loss, rel=1e-6, abs=1e-6)
        if b.heldout_loss is not None:
            assert a.heldout_loss == pytest.approx(b.heldout_loss, rel=1e-6, abs=1e-6)
    mine, theirs = tc.model.state_dict(), tb.model.state_dict()
    for ours, torch_name in (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
                             ("b_hh", "bias_hh_l0")):
        torch.testing.assert_close(mine[f"rnn.layers.0.{ours}"], theirs[f"rnn.{torch_name}"], rtol=1e-6, atol=1e-6)
    assert rc[-1].grad_flow is not None and rc[-1].probe is not None  # the scan path's diagnostics work


def test_one_unit_accumulator_solves_the_cumsum_task():
    _, reports = run(preset("one_unit_accumulator", steps=300))
    assert reports[-1].heldout_loss < 1e-4  # source 000's remark: one linear unit is the running sum


@pytest.mark.parametrize("name", ["minimal_gated_unit", "indrnn"])
def test_gallery_cells_learn(name):
    _, reports = run(preset(name, steps=150, eval_every=150))
    assert reports[-1].status == "finished"
    assert reports[-1].heldout_loss < reports[0].loss  # it learned something


def test_a_custom_cell_round_trips_and_resumes(tmp_path):
    config = preset("minimal_gated_unit", steps=20, report_every=5)
    again = ExperimentConfig.from_dict(config.to_dict())
    assert again == config
    trainer = Trainer(dataclasses.replace(config, train=dataclasses.replace(config.train, steps=10)))
    list(trainer.reports())
    trainer.checkpoint(tmp_path / "ckpt.safetensors")
    resumed = Trainer.resume(tmp_path / "ckpt.safetensors", steps=20)
    straight = Trainer(config)
    last_resumed = [r for r in resumed.reports() if r.full][-1]
    last_straight = [r for r in straight.reports() if r.full][-1]
    assert last_resumed.loss == pytest.approx(last_straight.loss, rel=1e-6)


def test_a_two_state_cell_with_two_layers_trains():
    config = preset("vanilla_by_hand", steps=30, report_every=5, eval_every=30, flow_every=10)
    cell = CustomCell(states=("h", "c"),
                      params=(CellParam("W", "I, H"), CellParam("U", "H, H", "orthogonal", 1.0),
                              CellParam("b", "H", "zeros")),
                      variables=(CellVariable("a", "tanh(x @ W + h_tm1 @ U + b)"),),
                      expressions=("tanh(0.9 * c_tm1 + a)", "0.9 * c_tm1 + a"))
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, custom=cell, layers=2, hidden_size=8))
    trainer = Trainer(ExperimentConfig.from_dict(config.to_dict()))
    reports = [r for r in trainer.reports() if r.full]
    assert reports[-1].status == "finished" and reports[-1].grad_flow_layers.shape[0] == 2
    assert trainer.model.rnn.layers[1].W.shape == (8, 8)  # layer 1 reads layer 0's h: I = H there


def test_problems_are_named_on_their_field():
    bad = CustomCell(params=(CellParam("W_ih", "H, I"), CellParam("W_hh", "H, 2 * H"), CellParam("b", "H", "zeros")),
                     expressions=("tanh(x @ W_ih.T + h_tm1 @ W_hh.T + b)",))
    [problem] = check_cell(bad, input_size=1, hidden=4)
    assert problem.field == "model.custom.expressions[0]" and problem.column == 19
    assert "h_tm1 @ W_hh.T" in problem.message and "(8, 4)" in problem.message  # the sub-expression, both shapes

    grows = CustomCell(params=(CellParam("W", "H, 2 * H"),), expressions=("h_tm1 @ W",))
    [problem] = check_cell(grows, input_size=1, hidden=4)
    assert problem.field == "model.custom.expressions[0]" and "(2, 8)" in problem.message  # the state must keep (B, H)

    typo = CustomCell(expressions=("tanh(x @ W_ih.T + h_tm1 @ W_hh.T + bias)",))
    [problem] = check_cell(typo, input_size=1, hidden=4)
    assert problem.field == "model.custom.expressions[0]" and problem.column == 36 and "bias" in problem.message

    shapes = CustomCell(params=(CellParam("W_ih", "H, J"), CellParam("W_hh", "H, H", "identity"),
                                CellParam("b", "H", "orthogonal")))
    fields = {p.field for p in check_cell(shapes, input_size=1, hidden=4)}
    assert fields == {"model.custom.params[0].shape", "model.custom.params[2].init"}


def test_a_shape_problem_has_its_column_in_the_whole_shape_and_a_step_error_names_the_shapes():
    def problems(shape):
        cell = CustomCell(params=(CellParam("W_ih", "H, I"), CellParam("W_hh", shape), CellParam("b", "H", "zeros")))
        return check_cell(cell, input_size=1, hidden=4)

    [unknown] = problems("H,  2 * Q")
    assert unknown.field == "model.custom.params[1].shape" and unknown.column == 9 and "'Q'" in unknown.message
    [empty] = problems("H, ")
    assert empty.column == 4 and "empty size" in empty.message
    [zero] = problems("H, I - 1")
    assert zero.column == 4 and "'I - 1' is 0" in zero.message
    [step] = problems("H, I")  # h_tm1 @ W_hh.T with W_hh (H, I): the parameter at fault and its shape
    assert step.field == "model.custom.expressions[0]" and step.column == 19
    assert "W_hh is (4, 1) from its shape 'H, I' (parameter 2)" in step.message and "W_ih is" not in step.message


def test_a_shape_that_fits_only_the_first_layer_is_named_for_the_layers_above():
    cell = CustomCell(params=(CellParam("W", "1, H"), CellParam("U", "H, H")), expressions=("tanh(x @ W + h_tm1 @ U)",))
    assert check_layers(cell, input_size=1, hidden=4, layers=1) == []  # I = 1: "1" is I here
    [problem] = check_layers(cell, input_size=1, hidden=4, layers=3)
    assert problem.field == "model.custom.expressions[0]" and problem.column == 6
    assert "layers 2 to 3" in problem.message and "I = H = 4" in problem.message and "W is (1, 4)" in problem.message
    config = preset("vanilla_by_hand", steps=2)
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, custom=cell, layers=2, hidden_size=4))
    with pytest.raises(ConfigError) as err:
        Trainer(config)
    assert err.value.fields == ["model.custom.expressions[0]"]  # refused before training, on its field


def test_config_refuses_a_malformed_custom_cell_naming_every_field():
    data = load_preset("train", "vanilla_by_hand")
    data["model"]["custom"]["params"][0]["init"] = "xavier"
    data["model"]["custom"]["params"][1]["name"] = "x"
    data["model"]["custom"]["states"] = ["h", "c", "d"]
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict(data)
    assert set(err.value.fields) >= {"model.custom.params[0].init", "model.custom.params[1].name",
                                     "model.custom.states", "model.custom.expressions"}
    data = load_preset("train", "vanilla_by_hand")
    data["model"]["custom"] = None
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict(data)
    assert err.value.fields == ["model.custom"]


def test_a_custom_cell_too_big_for_the_budget_is_refused_before_it_is_built():
    data = load_preset("train", "vanilla_by_hand")
    data["model"]["custom"]["params"][1]["shape"] = "64 * H, 64 * H"  # 4096 x 4096 x ... per layer
    data["model"]["hidden_size"], data["model"]["layers"] = 1024, 16
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict(data)
    assert "model.hidden_size" in err.value.fields and ("GiB" in str(err.value) or "GB" in str(err.value))

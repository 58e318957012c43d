"""Stacked layers and the embedding table: exact gradients, names, state, checkpoints, the gradient check.

The fast stacks are held equal to their time-major references in test_reference.py; here
the fast models stand on their own against central differences, carry their state
across chunks, round-trip through checkpoints, name every parameter, state entry and
probe per layer (with the layer as metadata), and get one gradient-check row per layer
that catches a gradient broken in one layer only.
"""

import numpy as np
import pytest

from rnnscope.engine.checkpoint import load_checkpoint, save_checkpoint
from rnnscope.engine.gradcheck import check_gradients
from rnnscope.engine.models import ModelConfig, build_model, trace_with_gradients
from rnnscope.engine.models.reference import reference_model
from rnnscope.engine.tasks import build_task
from rnnscope.engine.training import Trainer, build_optimizer
from tests.engine.gradutil import assert_float32_matches_float64, fine_gradient, relative_error

KINDS = {"rnn": {}, "lstm": {}, "gru": {}, "gru_reset_after": {"reset_after": True}}
D, H, O = 4, 3, 3


def _model(name, layers=2, embedding=0, seed=2, **extra):
    config = ModelConfig(
        name.split("_")[0],
        D,
        H,
        O,
        seed=seed,
        num_layers=layers,
        embedding_size=embedding,
        **KINDS[name],
        **extra,
    )
    model = build_model(config)
    rng = np.random.default_rng(seed + 10)
    for key in model.params:  # non-zero biases, so that every term is exercised
        if key.split(".")[-1].startswith("b"):
            model.params[key][...] += 0.3 * rng.standard_normal(model.params[key].shape)
    return model


def _data(model, T=4, B=2, seed=0, one_hot=False):
    rng = np.random.default_rng(seed)
    x = np.eye(D)[rng.integers(0, D, (T, B))] if one_hot else rng.standard_normal((T, B, D))
    y = rng.integers(0, O, (T, B))
    state = {k: 0.5 * rng.standard_normal(v.shape) for k, v in model.initial_state(B).items()}
    return x, y, state


@pytest.mark.parametrize("embedding", [0, 2], ids=["no-embedding", "embedding"])
@pytest.mark.parametrize("name", list(KINDS))
def test_every_gradient_of_a_stack_matches_central_differences(name, embedding):
    model = _model(name, layers=2, embedding=embedding)
    x, y, state = _data(model)
    mask = np.array([[1, 1], [0, 1], [1, 0.5], [1, 1]], float)
    _, grads, _ = model.loss_and_gradients(x, y, mask, state)

    def f():
        return model.loss(x, y, mask, state)

    for key in model.params:
        numeric = fine_gradient(f, model.params[key])
        assert relative_error(grads.params[key], numeric, 1e-3) < 1e-6, key
    assert relative_error(grads.inputs, fine_gradient(f, x), 1e-3) < 1e-6
    for key in state:
        numeric = fine_gradient(f, state[key])
        assert relative_error(grads.initial_state[key], numeric, 1e-3) < 1e-6, key


def test_a_dnc_with_an_embedding_has_exact_gradients_and_cannot_stack():
    config = ModelConfig("dnc", D, H, O, embedding_size=3, memory_slots=3, memory_width=2, read_heads=1)
    model = build_model(config)
    assert model.params["E"].shape == (D, 3) and model.params["Wx"].shape[0] == 3 + 2
    x, y, _ = _data(model, T=3)
    result = check_gradients(model, x, y, mode="full")  # (its kink status covers the allocation sort)
    assert not result.failed and result.row("E").status.name in ("OK", "KINK")
    with pytest.raises(ValueError, match="num_layers: the dnc has one recurrent layer"):
        ModelConfig("dnc", D, H, O, num_layers=2)


def test_a_one_layer_model_keeps_its_names_and_draws_its_old_weights():
    plain = build_model(ModelConfig("lstm", D, H, O, seed=4))
    assert list(plain.params) == ["Wx", "Wh", "b", "Wy", "by"]
    assert list(plain.initial_state(1)) == ["h", "c"]
    # an embedding is drawn after everything else: the rest of the weights do not move
    embedded = build_model(ModelConfig("rnn", D, H, O, seed=4, embedding_size=5))
    twin = build_model(ModelConfig("rnn", 5, H, O, seed=4))
    assert list(embedded.params) == ["E", "Wx", "Wh", "b", "Wy", "by"]
    for key in twin.params:
        np.testing.assert_array_equal(embedded.params[key], twin.params[key])
    x, y, _ = _data(plain, T=3, B=1)
    trace, _, _ = trace_with_gradients(plain, x, y)
    assert "lstm/forget_gate" in trace and "grad/hidden_norm" in trace
    assert {probe.layer for probe in trace if probe.group in ("lstm", "grad")} == {0}
    assert trace["output/logits"].layer is None and list(trace.layers()) == [0]


@pytest.mark.parametrize("name", list(KINDS))
def test_a_stack_names_parameters_state_and_probes_per_layer(name):
    model = _model(name, layers=3, embedding=2)
    kind = model.kind
    own = ["Wx", "Wh", "b"] + (["bh"] if name == "gru_reset_after" else [])
    expected = ["E"] + [f"l{k}.{p}" for k in range(3) for p in own] + ["Wy", "by"]
    assert list(model.params) == expected
    assert model.params["l0.Wx"].shape[0] == 2 and model.params["l1.Wx"].shape[0] == H
    if kind != "rnn":
        assert model.params.gate_slices("l2.Wh") == model.params.gate_slices("l0.Wh")
        assert "l1.Wx[candidate]" in model.params.slice_names("l1.Wx")
    states = ("h", "c") if kind == "lstm" else ("h",)
    assert list(model.initial_state(2)) == [f"l{k}.{s}" for k in range(3) for s in states]

    x, y, state = _data(model, T=5, B=2)
    trace, result, grads = trace_with_gradients(model, x, y, state=state)
    layers = trace.layers()
    assert list(layers) == [0, 1, 2]
    for layer, probes in layers.items():
        assert all(p.name.startswith((f"{kind}/l{layer}/", f"grad/l{layer}/")) for p in probes)
        assert f"{kind}/l{layer}/hidden" in trace and f"grad/l{layer}/hidden_norm" in trace
    assert len(layers[0]) == len(layers[2]) and trace[f"{kind}/l1/hidden"].group == kind
    assert trace["embedding/vector"].data.shape == (5, 2, 2) and trace["embedding/vector"].layer is None
    # the read-out reads the top layer; the per-layer gradient norms are the reference's
    np.testing.assert_array_equal(result.core.features, trace[f"{kind}/l2/hidden"].data)
    _, _, ref_grads = trace_with_gradients(reference_model(model), x, y, state=state)
    assert grads.hidden.shape == (5, 2, 3 * H)
    for layer in range(3):
        expected_norm = np.linalg.norm(ref_grads.hidden[..., layer * H : (layer + 1) * H], axis=-1)
        np.testing.assert_allclose(trace[f"grad/l{layer}/hidden_norm"].data, expected_norm, rtol=1e-12)
    assert all(key.startswith("l") for key in result.final_state)


@pytest.mark.parametrize("name", list(KINDS))
def test_stepping_a_stack_one_step_at_a_time_equals_the_whole_sequence(name):
    model = _model(name, layers=2, embedding=3)
    x, y, state = _data(model, T=5, B=3, seed=1, one_hot=True)
    whole = model.forward(x, y, state=state)
    carried = state
    total = 0.0
    for t in range(5):
        result = model.forward(x[t : t + 1], y[t : t + 1], state=carried)
        carried, total = result.final_state, total + result.loss
        for probe in whole.trace:
            if probe.layer is not None:
                np.testing.assert_allclose(result.trace[probe.name].data[0], probe.data[t], rtol=1e-12)
    for key in state:
        np.testing.assert_allclose(carried[key], whole.final_state[key], rtol=1e-13, atol=1e-14)
    assert np.isclose(total, whole.loss, rtol=1e-13)


def test_a_float32_stack_matches_float64():
    model = _model("lstm", layers=2, embedding=3, dtype="float32")
    x, y, state = _data(model, T=6, B=2)
    assert_float32_matches_float64(model, x, y, state)


def test_a_stack_with_an_embedding_round_trips_through_a_checkpoint(tmp_path):
    task = build_task("chars", text="abcab cabbac " * 8)
    config = task.model_config("gru", 5, num_layers=2, embedding_size=3, reset_after=True, seed=3)
    trainer = Trainer(build_model(config), task, build_optimizer("adam"), batch_size=2, seq_len=6, seed=1)
    for _ in range(3):
        trainer.step()
    path = save_checkpoint(tmp_path / "stack.npz", trainer.model, trainer=trainer)
    loaded = load_checkpoint(path)
    assert loaded.config == config and loaded.config.num_layers == 2 and loaded.config.embedding_size == 3
    for key, value in trainer.model.params.items():
        np.testing.assert_array_equal(loaded.model.params[key], value)
    assert sorted(loaded.trainer_state["carried_state"]) == ["l0.h", "l1.h"]
    assert any(key.endswith("/l1.Wh") for key in loaded.optimizer_state)
    batch = task.sample(2, 0, 6)
    assert loaded.model.loss(batch.inputs, batch.targets) == trainer.model.loss(batch.inputs, batch.targets)


def test_the_gradient_check_has_a_row_per_layer_and_finds_a_broken_layer():
    model = _model("lstm", layers=2, embedding=2)
    x, y, _ = _data(model, T=4, B=2)
    result = check_gradients(model, x, y, mode="full")
    assert not result.failed
    names = [row.name for row in result.rows]
    assert names == ["E", "l0.Wx", "l0.Wh", "l0.b", "l1.Wx", "l1.Wh", "l1.b", "Wy", "by", "inputs"] + [
        f"state.{layer}.{part}" for layer in ("l0", "l1") for part in ("h", "c")
    ]
    assert [sub.name for sub in result.row("l1.Wh").sub_rows] == [f"l1.Wh[{g}]" for g in GATES]

    class Broken(type(model)):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            grads, dinputs, dstate, dhidden = super().backward_core(
                dfeatures, core, inputs, need_inputs=need_inputs
            )
            grads["l1.Wh"][:, H : 2 * H] *= 1.01  # the top layer's forget-gate columns, 1 % off
            return grads, dinputs, dstate, dhidden

    broken = check_gradients(Broken(model.config, model.params.copy()), x, y, mode="full")
    failed = {row.name for row in broken.all_rows() if row.failed}
    assert failed == {"l1.Wh", "l1.Wh[forget]"}


GATES = ("input", "forget", "output", "candidate")


def test_sizes_out_of_bounds_are_refused_by_name():
    with pytest.raises(ValueError, match="num_layers: layers"):
        ModelConfig("lstm", D, H, O, num_layers=9)
    with pytest.raises(ValueError, match="embedding_size: embedding"):
        ModelConfig("lstm", D, H, O, embedding_size=-1)
    old = ModelConfig("lstm", D, H, O).to_dict()
    del old["num_layers"], old["embedding_size"]  # a config saved before stacking existed
    assert ModelConfig.from_dict(old).num_layers == 1

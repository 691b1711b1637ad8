"""Tanh on its own, int8 (a table) and fp16 (the Q15 table), odd sizes."""
import pytest
import torch

from optest import check_op


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_tanh(tmp_path, precision):
    qgraph = check_op(tmp_path, torch.nn.Tanh(), "tanh", precision, shape=(19,),
                      exporter="torch_export")
    assert [q.kind for q in qgraph.layers] == ["tanh"]

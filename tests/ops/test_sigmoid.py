"""Sigmoid on its own, int8 (a table) and fp16 (the Q15 table), odd sizes."""
import pytest
import torch

from optest import check_op


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_sigmoid(tmp_path, precision):
    qgraph = check_op(tmp_path, torch.nn.Sigmoid(), "sigmoid", precision, shape=(19,),
                      exporter="onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["sigmoid"]

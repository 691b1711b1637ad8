"""Convert layers at both precision boundaries: int8 Linear -> fp16 Tanh -> int8 Linear."""
import torch

from optest import check_op


def test_convert_both_ways(tmp_path):
    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Linear(9, 11), torch.nn.Tanh(), torch.nn.Linear(11, 5))
    qgraph = check_op(tmp_path, model, "convert", "fp16", shape=(9,),
                      overrides={"linear": "int8", "tanh": "fp16"})
    converts = [q.params["precision"] for q in qgraph.layers if q.kind == "convert"]
    assert converts == ["fp16", "int8"]  # int8 -> fp16 before tanh, fp16 -> int8 after

"""GRU on its own, int8 and fp16, odd sizes, state carried over 9 frames."""
import pytest

from optest import check_op
from recurrent_models import One


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_gru(tmp_path, precision):
    qgraph = check_op(tmp_path, One("gru", 11, 13, seed=3), "gru", precision, shape=(11,),
                      time=9, exporter="onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["gru"]

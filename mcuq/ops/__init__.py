"""One module per op: float reference, quantizer, bit-exact integer twin.

Adding an op: see docs/adding-an-op.md.
"""
from mcuq.ops import activation, convert, gru, linear, lstm

OPS = {"linear": linear, "relu": activation, "sigmoid": activation, "tanh": activation,
       "gru": gru, "lstm": lstm, "convert": convert}

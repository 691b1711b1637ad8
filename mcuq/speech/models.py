"""Example model family: speech enhancement by spectral masking.

magnitude features (bins) -> FC + ReLU -> stacked GRU or LSTM -> FC + ReLU (optional)
-> FC + sigmoid -> a mask in [0, 1] per bin, one frame at a time. The paper-size
configuration (issue "speech enhancement for real") is 257 bins, FC 256, two
LSTM(256) or GRU(256) layers, FC 256.
"""
from __future__ import annotations

import torch
from torch import nn


class SpeechMaskNet(nn.Module):
    def __init__(self, kind: str = "gru", bins: int = 257, fc: int = 96, hidden: int = 96,
                 layers: int = 2, fc_out: int = 0):
        super().__init__()
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[kind]
        self.kind = kind
        self.fc_in = nn.Linear(bins, fc)
        self.rnn = rnn(fc, hidden, num_layers=layers, batch_first=True)
        self.fc_mid = nn.Linear(hidden, fc_out) if fc_out else None
        self.fc_mask = nn.Linear(fc_out or hidden, bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, time, bins) features -> (batch, time, bins) mask."""
        y = torch.relu(self.fc_in(x))
        y, _ = self.rnn(y)
        if self.fc_mid is not None:
            y = torch.relu(self.fc_mid(y))
        return torch.sigmoid(self.fc_mask(y))

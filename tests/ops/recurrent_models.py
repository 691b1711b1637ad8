"""One recurrent layer as a model: (batch, time, features) -> its per-frame output."""
import torch


class One(torch.nn.Module):
    def __init__(self, kind: str, features: int, hidden: int, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = (torch.nn.GRU if kind == "gru" else torch.nn.LSTM)(features, hidden,
                                                                       batch_first=True)
        with torch.no_grad():  # larger than default init, so gates leave their linear region
            for p in self.rnn.parameters():
                p.mul_(2.0)

    def forward(self, x):
        return self.rnn(x)[0]

"""One recurrent layer as a model: (batch, time, features) -> its per-frame output, or
with `final` its final state through a Linear (a sequence classifier)."""
import torch

LAYERS = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}


class One(torch.nn.Module):
    def __init__(self, kind: str, features: int, hidden: int, seed: int,
                 bidirectional: bool = False, final: bool = False, **options):
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = LAYERS[kind](features, hidden, batch_first=True,
                                bidirectional=bidirectional, **options)
        self.final = torch.nn.Linear(hidden, 5) if final else None
        with torch.no_grad():  # larger than default init, so gates leave their linear region
            for p in self.rnn.parameters():
                p.mul_(2.0)

    def forward(self, x):
        y, state = self.rnn(x)
        if self.final is None:
            return y
        h = state[0] if isinstance(state, tuple) else state
        return self.final(h[-1])

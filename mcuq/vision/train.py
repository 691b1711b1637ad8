"""Train a RepVGG classifier on CPU (the examples' models; minutes, not hours)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def clip_weights(model: nn.Module, w_max: float) -> None:
    """Training-time weight clipping (Stutz et al.): every weight of a convolution or
    linear layer (each parameter of two or more dimensions) projected to [-w_max, w_max];
    biases and normalization parameters stay free."""
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim >= 2:
                p.clamp_(-w_max, w_max)


def train(model: nn.Module, images: np.ndarray, labels: np.ndarray, epochs: int = 10,
          batch: int = 64, lr: float = 3e-3, seed: int = 0, log=print,
          w_max: float | None = None) -> nn.Module:
    """AdamW with a cosine schedule and label smoothing; random flips and shifts of
    up to 2 pixels as augmentation (on top of whatever the data set did); with `w_max`,
    the weights clipped to [-w_max, w_max] after every step (clip_weights)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    steps = epochs * (len(labels) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    if w_max is not None:
        clip_weights(model, w_max)
    model.train()
    for epoch in range(epochs):
        order = rng.permutation(len(labels))
        correct = total = 0
        for i in range(len(labels) // batch):
            idx = torch.from_numpy(order[i * batch:(i + 1) * batch])
            x, y = x_all[idx], y_all[idx]
            dy, dx = (int(v) for v in rng.integers(-2, 3, 2))
            x = torch.roll(x, (dy, dx), dims=(2, 3))
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            if w_max is not None:
                clip_weights(model, w_max)
            correct += int((out.argmax(1) == y).sum())
            total += len(y)
        log(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}, train top-1 {correct / total:.3f}")
    return model.eval()


def top1(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        logits = torch.cat([model(torch.from_numpy(images[i:i + 256]))
                            for i in range(0, len(images), 256)])
    return float((logits.argmax(1).numpy() == labels).mean())

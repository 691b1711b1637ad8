"""Train a speech-enhancement mask model (CPU) and save it for mcuq.

    .venv/bin/mcuq corpus data/speech                      # the generated corpus (~1 min)
    .venv/bin/python examples/train_speech.py --data data/speech --kind lstm \\
        --hidden 256 --fc 256 --fc-out 256 --minutes 20 --out examples/models/lstm256

The bundled examples/models/lstm256.onnx ran 14,558 steps (final loss 0.0354) and
gru256.onnx 7,516 steps (loss 0.0414), seed 0; `--steps 14558 --minutes 600` repeats
the schedule (torch's CPU kernels may still differ in the last bits across machines).

`--w-max W` clips every weight matrix to [-W, W] after each step (Stutz et al.'s
training-time clipping); `--init model.onnx` starts from an export's weights. The bundled
examples/models/lstm256_clipped.onnx is lstm256.onnx fine-tuned that way (3,000 steps,
final loss 0.0353; every weight matrix within +-0.25, which clipped 4 to 10% of them):

    .venv/bin/python examples/train_speech.py --data data/speech --kind lstm --hidden 256 \
        --fc 256 --fc-out 256 --init examples/models/lstm256.onnx --w-max 0.25 --lr 3e-4 \
        --steps 3000 --minutes 20 --out examples/models/lstm256_clipped

The paper's model: 257 bins -> FC 256 + ReLU -> 2 x LSTM(256) or GRU(256) -> FC 256 + ReLU
-> FC 257 + sigmoid (about 1.25M parameters for the LSTM). Trains on random 100-frame
chunks of the train split with Adam on the mask's mean squared error, for a time budget,
then writes <out>.pt (TorchScript), <out>.onnx and <out>_calib.npy (the calib split's
features, for `mcuq export --calib`).
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from mcuq.speech.data import calibration_array, training_spectra
from mcuq.speech.models import SpeechMaskNet
from mcuq.vision.train import clip_weights

CHUNK = 100


def batches(clips, batch: int, rng):
    while True:
        x = np.empty((batch, CHUNK, 257), np.float32)
        y = np.empty_like(x)
        for b in range(batch):
            feats, mask = clips[rng.integers(len(clips))]
            if feats.shape[0] <= CHUNK:
                reps = -(-(CHUNK + 1) // feats.shape[0])
                feats, mask = np.concatenate([feats] * reps), np.concatenate([mask] * reps)
            start = rng.integers(0, feats.shape[0] - CHUNK)
            x[b], y[b] = feats[start:start + CHUNK], mask[start:start + CHUNK]
        yield torch.from_numpy(x), torch.from_numpy(y)


def start_from(model: SpeechMaskNet, path: Path) -> None:
    """Start training from the weights of an exported model of the same shape (read
    through mcuq's importer, which runs no code of the file; its recurrent gates are in
    PyTorch's order)."""
    from mcuq.frontend import load_model

    graph = load_model(path, features=257, frames=16)[1]
    linears = [layer for layer in graph.layers if layer.kind == "linear"]
    recurrent = [layer for layer in graph.layers if layer.kind == model.kind]
    targets = [m for m in (model.fc_in, model.fc_mid, model.fc_mask) if m is not None]
    if len(linears) != len(targets) or len(recurrent) != model.rnn.num_layers:
        raise SystemExit(f"error: {path} has {len(linears)} linear and {len(recurrent)} "
                         f"{model.kind} layers; this model has {len(targets)} and "
                         f"{model.rnn.num_layers}")
    with torch.no_grad():
        pairs = [(m.weight, layer.weights["weight"]) for m, layer in zip(targets, linears)]
        pairs += [(m.bias, layer.weights["bias"]) for m, layer in zip(targets, linears)]
        for i, layer in enumerate(recurrent):
            for name, key in (("weight_ih", "w_ih"), ("weight_hh", "w_hh"), ("bias_ih", "b_ih"),
                              ("bias_hh", "b_hh")):
                pairs.append((getattr(model.rnn, f"{name}_l{i}"), layer.weights[key]))
        for param, value in pairs:
            if tuple(param.shape) != value.shape:
                raise SystemExit(f"error: {path} holds a weight of shape {value.shape} where "
                                 f"this model has {tuple(param.shape)}")
            param.copy_(torch.from_numpy(np.asarray(value, np.float32)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--kind", choices=["lstm", "gru"], default="lstm")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--fc", type=int, default=256)
    ap.add_argument("--fc-out", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=10.0,
                    help="time budget; training stops at whichever of --minutes, --steps comes first")
    ap.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--w-max", type=float, default=None,
                    help="clip every weight matrix to [-W_MAX, W_MAX] after each step "
                         "(training-time weight clipping, for bit error robustness)")
    ap.add_argument("--init", type=Path,
                    help="start from this exported model's weights (.onnx of the same shape), "
                         "e.g. to fine-tune a bundled model with --w-max")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    clips = training_spectra(args.data, "train")
    model = SpeechMaskNet(args.kind, fc=args.fc, hidden=args.hidden, layers=args.layers,
                          fc_out=args.fc_out)
    if args.init is not None:
        start_from(model, args.init)
    if args.w_max is not None:
        clip_weights(model, args.w_max)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.kind}: {params} parameters, {len(clips)} training clips")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    deadline = time.time() + 60 * args.minutes
    step, running = 0, None
    for x, y in batches(clips, args.batch, rng):
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if args.w_max is not None:
            clip_weights(model, args.w_max)
        running = float(loss) if running is None else 0.98 * running + 0.02 * float(loss)
        step += 1
        if step % 100 == 0:
            print(f"step {step}: loss {running:.4f}", flush=True)
        if time.time() > deadline or (args.steps is not None and step >= args.steps):
            break
    model.eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    calib = calibration_array(args.data, "calib")
    np.save(args.out.with_name(args.out.name + "_calib.npy"), calib)
    example = torch.from_numpy(calib[:1])
    torch.jit.save(torch.jit.trace(model, example), args.out.with_suffix(".pt"))
    torch.onnx.export(model, (example,), args.out.with_suffix(".onnx"), dynamo=False,
                      input_names=["features"], output_names=["mask"],
                      dynamic_axes={"features": {1: "time"}, "mask": {1: "time"}})
    print(f"done: {step} steps, loss {running:.4f}; wrote {args.out}.pt/.onnx")


if __name__ == "__main__":
    main()

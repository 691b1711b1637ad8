"""mcuq eval: speech quality of the float model and its quantized versions.

For each test clip: the noisy input, and the output of the float model (FP32, NumPy
reference) and of the bit-exact simulator at FP16, INT8 and the mixed FP16-INT8
recipe, scored against the clean clip with PESQ (wide band, `pesq`), STOI (`pystoi`)
and SI-SDR; each with its mean delta to FP32, plus the weight memory of each
configuration. Writes results.json, results.md and a spectrogram figure.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from mcuq.calibrate import calibrate_minmax
from mcuq.data import batches, load_array
from mcuq.errors import McuqError
from mcuq.frontend import load_model
from mcuq.pipeline import sequences_for
from mcuq.quantize import assign_precisions, quantize_graph
from mcuq.reference import FloatModel
from mcuq.engine import simulator
from mcuq.simulate import saturation_warnings
from mcuq.speech import audio
from mcuq.speech.data import load_split

CONFIGS = ("fp32", "fp16", "int8", "mixed")
BATCH = 24


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al. 2019)."""
    reference = reference - reference.mean()
    estimate = estimate - estimate.mean()
    target = np.dot(estimate, reference) / (np.dot(reference, reference) + 1e-12) * reference
    noise = estimate - target
    return float(10 * np.log10((np.sum(target ** 2) + 1e-12) / (np.sum(noise ** 2) + 1e-12)))


def scores(clean: np.ndarray, estimate: np.ndarray, only: str | None = None) -> dict:
    """PESQ (wide band), STOI and SI-SDR of `estimate` against `clean`; `only` one of them
    ("pesq", "stoi" or "si_sdr")."""
    from pesq import PesqError, pesq
    from pystoi import stoi

    out = {}
    if only in (None, "pesq"):
        try:
            out["pesq"] = float(pesq(audio.SAMPLE_RATE, clean, estimate, "wb"))
        except PesqError:
            out["pesq"] = math.nan
    if only in (None, "stoi"):
        out["stoi"] = float(stoi(clean, estimate, audio.SAMPLE_RATE, extended=False))
    if only in (None, "si_sdr"):
        out["si_sdr"] = si_sdr(clean, estimate)
    return out


def run_masks(runner, feats: list[np.ndarray]) -> list[np.ndarray]:
    """Masks for clips of different lengths, run as padded batches (state is per item)."""
    masks = []
    for start in range(0, len(feats), BATCH):
        group = feats[start:start + BATCH]
        longest = max(f.shape[0] for f in group)
        padded = np.zeros((len(group), longest, audio.BINS), np.float32)
        for i, f in enumerate(group):
            padded[i, :f.shape[0]] = f
        out = runner(padded)
        masks += [out[i, :f.shape[0]] for i, f in enumerate(group)]
    return masks


def check_configs(configs) -> tuple[str, ...]:
    """The quantized configurations to score, in table order; fp32 always runs (the
    deltas are to it)."""
    chosen = set(configs or CONFIGS) | {"fp32"}
    unknown = chosen - set(CONFIGS)
    if unknown:
        raise McuqError(f"unknown configuration {', '.join(sorted(unknown))}; "
                        f"choose from {', '.join(CONFIGS[1:])}")
    return tuple(c for c in CONFIGS if c in chosen)


def evaluate(model_path: Path, calib_path: Path, data_root: Path, split: str = "test",
             limit: int | None = None, progress=None, configs=None, engine: str = "auto"
             ) -> dict:
    configs = check_configs(configs)
    _, graph = load_model(model_path, features=audio.BINS, frames=100)
    if (graph.input_size, graph.output_size) != (audio.BINS, audio.BINS):
        raise McuqError(f"{model_path} maps {graph.input_size} features to {graph.output_size}; "
                        f"speech enhancement needs {audio.BINS} in and out")
    calib = sequences_for(graph, load_array(calib_path, "calibration data"), "calibration data")
    stats = calibrate_minmax(graph, batches(calib))
    clips = load_split(data_root, split, limit)
    spectra = [audio.stft(noisy) for _, noisy, _ in clips]
    feats = [audio.features(s) for s in spectra]

    runners, memory = {}, {"fp32": graph.parameter_count() * 4}
    runners["fp32"] = FloatModel(graph).run
    sims = {}
    for precision in ("fp16", "int8", "mixed"):
        qgraph = quantize_graph(graph, stats, "model", assign_precisions(graph, precision))
        sim = sims[precision] = simulator(qgraph, graph, engine)
        runners[precision] = sim.run
        memory[precision] = qgraph.weight_bytes()

    per_clip = {name: [] for name in ("noisy",) + configs}
    enhanced_example = {}
    for config in configs:
        masks = run_masks(runners[config], feats)
        for i, ((name, noisy, clean), spec, mask) in enumerate(zip(clips, spectra, masks)):
            out = audio.apply_mask(spec, mask, noisy.size)
            per_clip[config].append({"clip": name, **scores(clean, out)})
            if i == 0:
                enhanced_example[config] = out
        if progress:
            progress(config)
    for name, noisy, clean in clips:
        per_clip["noisy"].append({"clip": name, **scores(clean, noisy)})

    table = {}
    for config, rows in per_clip.items():
        mean = {m: float(np.nanmean([r[m] for r in rows])) for m in ("pesq", "stoi", "si_sdr")}
        table[config] = mean
    for config in table:
        table[config]["delta_to_fp32"] = {m: table[config][m] - table["fp32"][m]
                                          for m in ("pesq", "stoi", "si_sdr")}
        table[config]["weight_bytes"] = memory.get(config)
    return {"model": str(model_path), "data": str(data_root), "split": split,
            "clips": len(clips), "seconds": float(sum(c[1].size for c in clips)) / audio.SAMPLE_RATE,
            "pesq_failures": {c: int(sum(math.isnan(r["pesq"]) for r in rows))
                              for c, rows in per_clip.items()},
            "table": table, "weight_bytes": memory, "per_clip": per_clip,
            "warnings": {c: saturation_warnings(sims[c].qgraph, sims[c].saturation)
                         for c in configs if c in sims},
            "example": {"clip": clips[0][0], "noisy": clips[0][1], "clean": clips[0][2],
                        **enhanced_example}}


def markdown(result: dict, command: str) -> str:
    t = result["table"]
    lines = [f"# Speech quality: {Path(result['model']).name}", "",
             f"{result['clips']} clips ({result['seconds']:.0f} s) of `{result['data']}` "
             f"split `{result['split']}`. Made by `{command}`.", "",
             "| configuration | PESQ-WB | Δ PESQ | STOI | Δ STOI | SI-SDR dB | Δ SI-SDR | weights |",
             "|---|---|---|---|---|---|---|---|"]
    for config in ("noisy",) + tuple(c for c in CONFIGS if c in t):
        row = t[config]
        d = row["delta_to_fp32"]
        mem = f"{row['weight_bytes']:,} B" if row["weight_bytes"] else "-"
        lines.append(f"| {config} | {row['pesq']:.3f} | {d['pesq']:+.3f} | {row['stoi']:.3f} | "
                     f"{d['stoi']:+.3f} | {row['si_sdr']:.2f} | {d['si_sdr']:+.2f} | {mem} |")
    fp16, mixed = result["weight_bytes"]["fp16"], result["weight_bytes"]["mixed"]
    lines += ["", f"Weight memory, FP16 / mixed: {fp16 / mixed:.2f}x "
              f"({fp16:,} B / {mixed:,} B)."]
    return "\n".join(lines) + "\n"


def figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ex = result["example"]
    quantized = next(c for c in CONFIGS[::-1] if c in ex)  # mixed when it was scored
    title = {"mixed": "mixed FP16-INT8", "int8": "INT8", "fp16": "FP16", "fp32": "FP32"}
    panels = [("noisy", ex["noisy"]), ("FP32 model", ex["fp32"]),
              (f"{title[quantized]} model", ex[quantized]), ("clean", ex["clean"])]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 10), sharex=True)
    for ax, (title, samples) in zip(axes, panels):
        db = 20 * np.log10(np.abs(audio.stft(samples)).T + 1e-6)
        ax.imshow(db, origin="lower", aspect="auto", vmin=db.max() - 80, vmax=db.max(),
                  extent=[0, samples.size / audio.SAMPLE_RATE, 0, audio.SAMPLE_RATE / 2000])
        ax.set_title(f"{title} ({ex['clip']})")
        ax.set_ylabel("kHz")
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_results(result: dict, out_dir: Path, command: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {k: v for k, v in result.items() if k != "example"}
    doc["command"] = command
    (out_dir / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out_dir / "results.md").write_text(markdown(result, command))
    figure(result, out_dir / "spectrograms.png")

"""mcuq robustness: a quantized model's task metric under random bit errors in its weight
memory (mcuq.bit_errors), as mean and spread over seeded patterns per bit error rate.

A task is what the applications define (mcuq.vision.robustness: top-1 error of labelled
images; mcuq.speech.robustness: PESQ, STOI or SI-SDR of enhanced clips): an object with
`metric`, `higher_is_better`, `items` and `score(qgraph)`, which runs the bit-exact
simulator, i.e. what the C computes with those weights. Patterns run in parallel on the
machine's cores.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from mcuq import bit_errors
from mcuq.errors import McuqError
from mcuq.qgraph import QGraph



# the sweep's work, shared with forked workers
_WORK: dict = {}


def _score(job: tuple[int, int, float]) -> tuple[int, int, float, float, int]:
    model, pattern, rate = job
    w = _WORK["models"][model]
    qgraph, count = bit_errors.flipped(w["qgraph"], w["sites"], _WORK["seed"], pattern, rate)
    return model, pattern, rate, w["task"].score(qgraph), count


def sweep(models: dict[str, tuple[QGraph, object]], rates: list[float], patterns: int,
          seed: int = 0, jobs: int | None = None, progress: bool = True) -> dict:
    """For each model (label -> (qgraph, task)): its clean score and, per rate, the score
    of every pattern; summarised as mean, standard deviation, min and max."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from tqdm import tqdm

    if patterns < 1:
        raise McuqError(f"--patterns {patterns}: run at least one bit error pattern")
    rates = bit_errors.check_rates(rates)
    _WORK.clear()
    _WORK.update(seed=seed, models=[
        {"label": label, "qgraph": q, "task": task, "sites": bit_errors.sites(q)}
        for label, (q, task) in models.items()])
    jobs = jobs or os.cpu_count() or 1
    work = [(m, -1, 0.0) for m in range(len(models))] + [
        (m, p, r) for m in range(len(models)) for r in rates for p in range(patterns)]
    results = []
    bar = tqdm(total=len(work), desc="bit error patterns", unit="run",
               disable=None if progress else True,  # None: only on a terminal
               leave=False)
    try:
        if jobs == 1:
            for job in work:
                results.append(_clean(job) if job[1] < 0 else _score(job))
                bar.update()
        else:
            # an executor, not multiprocessing.Pool: with Pool, about one sweep in twenty
            # hung for good (a worker gone, its task never returned); an executor reports
            # a lost worker instead, and has not hung in a hundred sweeps
            context = multiprocessing.get_context("fork")
            try:
                with ProcessPoolExecutor(min(jobs, len(work)), mp_context=context) as pool:
                    for done in as_completed([pool.submit(_run, job) for job in work]):
                        results.append(done.result())
                        bar.update()
            except BrokenProcessPool:
                raise McuqError("a worker of the bit error sweep stopped before its run "
                                "ended; run the sweep again, or with --jobs 1") from None
    finally:
        bar.close()
    out = {"seed": seed, "patterns": patterns, "rates": rates, "models": []}
    for m, w in enumerate(_WORK["models"]):
        task = w["task"]
        clean = next(r[3] for r in results if r[0] == m and r[1] < 0)
        per_rate = []
        for rate in rates:
            runs = sorted((r for r in results if r[0] == m and r[1] >= 0 and r[2] == rate),
                          key=lambda r: r[1])
            values = np.array([r[3] for r in runs])
            per_rate.append({"rate": rate, "scores": [float(v) for v in values],
                             "flipped_bits": [r[4] for r in runs],
                             "mean": float(np.nanmean(values)), "std": float(np.nanstd(values)),
                             "min": float(np.nanmin(values)), "max": float(np.nanmax(values))})
        stored = sum(s.total_bits for s in w["sites"])
        out["models"].append({"label": w["label"], "metric": task.metric,
                              "higher_is_better": task.higher_is_better, "items": task.items,
                              "stored_weight_bits": stored, "clean": clean, "rates": per_rate})
    _WORK.clear()
    return out


def _clean(job) -> tuple:
    w = _WORK["models"][job[0]]
    return job[0], -1, 0.0, w["task"].score(w["qgraph"]), 0


def _run(job) -> tuple:
    return _clean(job) if job[1] < 0 else _score(job)


def markdown(result: dict, command: str) -> str:
    lines = [f"`{command}`", "",
             f"{result['patterns']} bit error patterns per rate (seed {result['seed']}), every "
             "stored weight bit flipped independently with the rate's probability; the "
             "bit-exact simulator scores each flipped model.", ""]
    for model in result["models"]:
        better = "higher" if model["higher_is_better"] else "lower"
        lines += [f"### {model['label']}", "",
                  f"{model['metric']} ({better} is better) on {model['items']} items; "
                  f"{model['stored_weight_bits']:,} stored weight bits; without bit errors: "
                  f"{model['clean']:.3f}.", "",
                  "| bit error rate | flipped bits (mean) | mean | std | min | max |",
                  "|---|---|---|---|---|---|"]
        for row in model["rates"]:
            lines.append(f"| {row['rate']:g} | {np.mean(row['flipped_bits']):,.1f} | "
                         f"{row['mean']:.3f} | {row['std']:.3f} | {row['min']:.3f} | "
                         f"{row['max']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for model in result["models"]:
        rates = [r["rate"] for r in model["rates"]]
        line = ax.errorbar(rates, [r["mean"] for r in model["rates"]],
                           yerr=[r["std"] for r in model["rates"]], marker="o", capsize=3,
                           label=model["label"])
        ax.axhline(model["clean"], color=line[0].get_color(), linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("bit error rate (dotted: without bit errors)")
    metric = {m["metric"] for m in result["models"]}
    ax.set_ylabel(" / ".join(sorted(metric)))
    ax.set_title(f"mean and std over {result['patterns']} patterns")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)


def write_results(result: dict, out_dir: Path, command: str) -> None:
    """results.json, results.md and curve.png in out_dir (created), each written whole."""
    from mcuq.files import atomic_file, write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "results.json", json.dumps(_finite({**result, "command": command}),
                                                     indent=1) + "\n")
    write_text(out_dir / "results.md", markdown(result, command))
    with atomic_file(out_dir / "curve.png") as tmp:
        figure(result, tmp)


def _finite(value):
    """JSON without NaN (a clip PESQ could not score): null instead."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_flipped_export(source: Path, out_dir: Path, rate: float, pattern: int, seed: int,
                         force: bool = False) -> int:
    """A new export directory holding `source` with pattern `pattern` of `seed` flipped at
    `rate`: its weights, its C and everything `mcuq verify` reads, so that the flipped
    model's C can be proved equal to its simulator. Returns the bits flipped."""
    import shutil

    from mcuq.export import write_graph
    from mcuq.files import atomic_directory, prepare_output
    from mcuq.inputs import read_json

    [rate] = bit_errors.check_rates([rate])
    qgraph = QGraph.load(source)
    qgraph.require_c("--write-firmware")
    weight_sites = bit_errors.sites(qgraph)
    prepare_output(out_dir, force)
    flipped, count = bit_errors.flipped(qgraph, weight_sites, seed, pattern, rate)
    errors = {"rate": rate, "pattern": pattern, "seed": seed, "flipped_bits": count,
              "stored_weight_bits": sum(s.total_bits for s in weight_sites),
              "from": str(source)}
    flipped.meta["bit_errors"] = errors
    report = read_json(Path(source) / "report.json", "export report")
    report["bit_errors"] = errors
    report.setdefault("notes", []).append(
        f"{count} weight bits flipped (rate {rate:g}, pattern {pattern}, seed {seed}); the "
        "per-layer SQNR rows are of the model before the flips")
    with atomic_directory(out_dir, force) as tmp:
        write_graph(flipped, tmp)
        for name in ("model.onnx", "verify_input.npy", "calibration.json"):
            if (Path(source) / name).is_file():
                shutil.copyfile(Path(source) / name, tmp / name)
        (tmp / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return count

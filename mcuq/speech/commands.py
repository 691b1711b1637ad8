"""The speech commands of the mcuq command line: enhance, eval, corpus."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from mcuq.engine import option as engine_option
from mcuq.errors import McuqError


@click.command()
@click.argument("noisy", type=click.Path(path_type=Path))
@click.option("-m", "--model", "out_dir", required=True, type=click.Path(path_type=Path),
              help="An export directory (mcuq export) of a 257-bin speech model.")
@click.option("-o", "--output", "output_path", required=True, type=click.Path(path_type=Path),
              help="The enhanced wav (16 kHz, 16-bit).")
@click.option("--target", type=click.Choice(["sim", "qemu", "host"]), default="sim",
              show_default=True, help="Run the frames through the simulator or the firmware.")
@click.option("--cores", type=int, help="Cluster cores for --target qemu/host.")
def enhance(noisy, out_dir, output_path, target, cores):
    """Enhance a 16 kHz mono wav with a quantized speech model, frame by frame."""
    from mcuq.speech.enhance import enhance_file

    if cores is not None and target == "sim":
        raise McuqError("--cores applies to --target qemu or host; the simulator's output does "
                        "not depend on the core count")
    info = enhance_file(noisy, out_dir, output_path, target, cores)
    click.echo(f"enhanced {noisy} ({info['seconds']:.2f} s, {info['frames']} frames) with "
               f"{target} -> {output_path}")
    for line in info["warnings"]:
        click.echo(f"warning: {line}", err=True)


@click.command(name="eval")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--calib", required=True, type=click.Path(path_type=Path),
              help="Calibration features (items, time, 257).")
@click.option("--data", "data_root", required=True, type=click.Path(path_type=Path),
              help="A folder with clean_<split>set_wav/ and noisy_<split>set_wav/.")
@click.option("--split", default="test", show_default=True)
@click.option("--limit", type=click.IntRange(1), help="Evaluate only the first N clips.")
@click.option("--configs", default="fp16,int8,mixed", show_default=True,
              help="Comma-separated quantized configurations to score (FP32 always runs; "
                   "FP16 is the slowest to simulate).")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Where results.md, results.json and spectrograms.png go.")
@engine_option()
def evaluate(model, calib, data_root, split, limit, configs, out_dir, engine):
    """PESQ, STOI and SI-SDR of noisy, FP32, FP16, INT8 and mixed on a test set."""
    import shlex

    from mcuq.speech.evaluate import evaluate as run_eval
    from mcuq.speech.evaluate import markdown, write_results

    command = "mcuq " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = run_eval(model, calib, data_root, split, limit,
                      progress=lambda c: click.echo(f"  {c} done", err=True),
                      configs=[c.strip() for c in configs.split(",") if c.strip()],
                      engine=engine)
    write_results(result, Path(out_dir), command)
    click.echo(markdown(result, command))
    for config, lines in result["warnings"].items():
        for line in lines:
            click.echo(f"warning: {config}: {line}", err=True)


@click.command()
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--train", default=600, show_default=True, type=click.IntRange(0, 100000),
              help="Training clips.")
@click.option("--calib", "calib_count", default=40, show_default=True,
              type=click.IntRange(0, 100000), help="Calibration clips.")
@click.option("--test", default=120, show_default=True, type=click.IntRange(0, 100000),
              help="Test clips.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1))
def corpus(root, train, calib_count, test, seed):
    """Generate a noisy/clean speech corpus (espeak-ng + generated noise), no download.

    Also writes ROOT/calib_features.npy: the calib split's features (clips x 200 frames x
    257), ready for `mcuq export --calib`. Running it again on the same folder with the
    same settings does nothing."""
    import numpy as np

    from mcuq.files import atomic_directory, save_npy
    from mcuq.inputs import read_json
    from mcuq.speech.corpus import generate
    from mcuq.speech.data import calibration_array

    root = Path(root)
    counts = {"train": train, "calib": calib_count, "test": test}
    manifest_path = root / "manifest.json"
    if manifest_path.is_file():
        try:
            manifest = read_json(manifest_path, "corpus manifest")
            same = manifest.get("seed") == seed and {
                k: len(v) for k, v in manifest.get("splits", {}).items()} == counts
        except (McuqError, AttributeError, TypeError):
            same = False
        if same:
            if calib_count and not (root / CALIB_FEATURES).is_file():
                save_npy(root / CALIB_FEATURES, calibration_array(root, "calib"))
                click.echo(f"{root} already holds this corpus; wrote {root / CALIB_FEATURES}")
            else:
                click.echo(f"{root} already holds this corpus (seed {seed}); nothing to do")
            return
    if root.exists() and any(root.iterdir()):
        raise McuqError(f"{root} exists and is not empty; choose a new folder")
    root.parent.mkdir(parents=True, exist_ok=True)  # a corpus is a new folder tree
    with atomic_directory(root, force=True) as tmp:
        manifest = generate(tmp, counts, seed)
        if calib_count:
            np.save(tmp / CALIB_FEATURES, calibration_array(tmp, "calib"))
    made = ", ".join(f"{k} {len(v)}" for k, v in manifest["splits"].items())
    click.echo(f"wrote {root}: {made} clips (16 kHz, VoiceBank-DEMAND layout) and "
               f"{root / CALIB_FEATURES}")


CALIB_FEATURES = "calib_features.npy"

COMMANDS = (enhance, evaluate, corpus)

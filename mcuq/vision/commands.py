"""The image commands of the mcuq command line: images (make or convert image data) and
top1 (a classifier's float and quantized top-1)."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from mcuq.engine import option as engine_option


@click.command()
@click.argument("source")
@click.option("-o", "--output", "output_path", required=True, type=click.Path(path_type=Path),
              help="The .npz to write: 'x' (N, C, H, W) floats in [0, 1], 'labels', 'classes'.")
@click.option("--size", default=32, show_default=True, type=click.IntRange(4, 1024),
              help="Resize to size x size.")
@click.option("--limit", type=click.IntRange(1), help="Keep only the first N images.")
def images(source, output_path, size, limit):
    """Image data for export, calibration and top1: SOURCE is digits:train, digits:test,
    shapes:train, shapes:test, a folder of class folders of PNG/JPEG images, a CIFAR-10
    binary file (or a folder of them), or an .npz with 'x' and 'labels'."""
    from mcuq.vision.loaders import load_images, save_images

    x, labels, classes = load_images(source, size)
    if limit is not None:
        x, labels = x[:limit], None if labels is None else labels[:limit]
    save_images(output_path, x, labels, classes)
    click.echo(f"{source} -> {output_path}: {x.shape[0]} images of {x.shape[1]}x{x.shape[2]}x"
               f"{x.shape[3]}, {len(classes)} classes")


@click.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--calib", required=True, help="Calibration images (any source `mcuq images` reads).")
@click.option("--test", "test_source", required=True, help="Labelled test images.")
@click.option("--configs", default="int8,int8+cfws,int8+kl-improved+cfws,fp16",
              show_default=True,
              help="Comma-separated precision[+method][+cfws][+wN][+range=R][+outliers=F] "
                   "configurations.")
@click.option("--limit", type=click.IntRange(1), help="Evaluate only the first N test images.")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path),
              help="Also write results.md and results.json here.")
@engine_option()
def top1(model, calib, test_source, configs, limit, out_dir, engine):
    """Top-1 of a classifier: float (ONNX Runtime) and each quantized configuration (the
    bit-exact simulator), with agreement and logit SQNR against float."""
    from mcuq.vision.evaluate import evaluate, markdown, write_results
    from mcuq.vision.loaders import load_images

    calib_x, _, _ = load_images(calib, size=None)
    test_x, labels, _ = load_images(test_source, size=None)
    if limit is not None:
        test_x, labels = test_x[:limit], None if labels is None else labels[:limit]
    command = "mcuq " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = evaluate(model, calib_x, test_x, labels,
                      [c for c in configs.split(",") if c.strip()],
                      progress=lambda c: click.echo(f"  {c} done", err=True), engine=engine)
    if out_dir is not None:
        write_results(result, Path(out_dir), command)
    click.echo(markdown(result, command))
    for config, lines in result["warnings"].items():
        for line in lines:
            click.echo(f"warning: {config}: {line}", err=True)


COMMANDS = (images, top1)

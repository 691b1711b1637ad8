"""The mcuq command line: export, simulate, verify, bench, report (the core), the
speech commands enhance, eval, corpus (mcuq.speech.commands) and the image commands
images, top1 (mcuq.vision.commands)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np

from mcuq.engine import option as engine_option
from mcuq.errors import McuqError
from mcuq.files import save_npy, write_text
from mcuq.inputs import read_json
from mcuq.layouts import ISAS
from mcuq.ranges import METHODS


class _PositiveFinite(click.ParamType):
    """A number > 0 that is not NaN or infinite (click's FloatRange lets NaN through)."""
    name = "number"

    def convert(self, value, param, ctx):
        import math

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (math.isfinite(number) and number > 0):
            self.fail(f"{value!r} is not a finite number above 0", param, ctx)
        return number


POSITIVE_FINITE = _PositiveFinite()


@click.group()
@click.version_option(package_name="mcuq")
def cli():
    """Quantize a trained model after training and generate bit-exact C for RV32 MCUs."""


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--calib", required=True, type=click.Path(path_type=Path),
              help="Calibration data, .npy/.npz, items on axis 0 (each a (time, features) "
                   "sequence for recurrent models).")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output directory (must not exist unless --force).")
@click.option("--name", default="model", show_default=True,
              help="C prefix of the generated API (<name>_run_frame, ...).")
@click.option("--force", is_flag=True, help="Replace an existing output directory.")
@click.option("--test", "test_path", type=click.Path(path_type=Path),
              help="Held-out data for the per-layer SQNR report (default: calibration data).")
@click.option("--cores", default=1, show_default=True, type=int,
              help="Cluster cores every layer is split over (1 to 8).")
@click.option("--precision", type=click.Choice(["int8", "fp16", "mixed", "fp32-ref"]),
              help="int8 everywhere, fp16 everywhere, mixed (recurrent layers int8, all "
                   "others fp16), or fp32-ref: the float model, for the simulator only "
                   "(no C), to compare the others with. [default: int8]")
@click.option("--precision-file", type=click.Path(path_type=Path),
              help='JSON per-layer overrides, e.g. {"lstm0": "fp16", "linear": "int8"}.')
@click.option("--isa", default="rv32", show_default=True, type=click.Choice(ISAS),
              help="Instruction set of the kernels, the weights laid out for it: rv32 (scalar "
                   "RV32IMFC), xcv (int8 SIMD dot products, hardware loops: CORE-V / GAP9; "
                   "docs/xcv.md).")
@click.option("--calib-method", default="minmax", show_default=True, type=click.Choice(METHODS),
              help="How activation ranges are chosen from the calibration data "
                   "(docs/calibration.md).")
@click.option("--percentile", type=float,
              help="For --calib-method percentile: the share of values kept unclipped, "
                   "50 to 100 [default: 99.99].")
@click.option("--calib-headroom", "headroom_db", default=0.0, show_default=True, type=float,
              help="Widen every activation range by this many dB, for data louder than "
                   "the calibration set.")
@click.option("--weight-bits", default=8, show_default=True, type=int,
              help="Bits of the int8 layers' weights (2 to 8, stored in int8), to measure "
                   "low-bit weights.")
@click.option("--weight-range", default="max", show_default=True,
              help="How each int8 weight row's range is chosen: max, mse (least squared "
                   "error), percentile[=P] of |w| (99.9), or clip=W_MAX; a precision file "
                   "may set it per layer (docs/calibration.md).")
@click.option("--weight-outliers", default=0.0, show_default=True, type=float,
              help="Share of each int8 linear or convolution weight row (0 to 0.1) kept "
                   "aside: its largest |w| go to a sparse int16 side list and the range is "
                   "chosen for the rest (docs/calibration.md).")
@click.option("--cfws", is_flag=True,
              help="Coarse & fine weight splitting of int8 3x3 convolutions (docs/cfws.md).")
@click.option("--equalize", is_flag=True,
              help="Cross-layer equalization: balance each channel's range between a Linear "
                   "or Conv and the layer it feeds (the float model is unchanged).")
@click.option("--memory", "memory_path", type=click.Path(path_type=Path),
              help='The target\'s memory sizes in bytes, JSON: {"l1": ..., "l2": ..., "nvm": '
                   '..., "l1_reserved": ...} [default: GAP9, L1 128 KiB (8 KiB of it for '
                   'stacks), L2 1.5 MiB, MRAM 2 MiB] (docs/memory.md).')
@click.option("--l1", type=click.IntRange(min=0),
              help="The cluster's L1 in bytes, over --memory: weights that do not fit stream "
                   "through it in tiles.")
@click.option("--budget-weights", type=int,
              help="Choose each layer's precision (int8 or fp16) so that the layers' arrays take "
                   "at most this many bytes, with the least measured error (docs/memory.md); "
                   "the choice is written to precision.json.")
@click.option("--budget-cycles", type=int,
              help="The same for cycles per frame on the cluster's critical path, counted by "
                   "QEMU for the rv32 kernels (one instruction per cycle).")
def export(model, calib, out_dir, name, force, test_path, cores, precision, precision_file, isa,
           calib_method, percentile, headroom_db, weight_bits, weight_range, weight_outliers, cfws,
           equalize, memory_path, l1, budget_weights, budget_cycles):
    """Quantize MODEL (.onnx, .pt2 or TorchScript .pt) and generate C."""
    from mcuq.export import export as run_export
    from mcuq.export import load_overrides

    from mcuq.budget import Budget

    budget = Budget(weights=budget_weights, cycles=budget_cycles)
    if budget and (precision or precision_file):
        given = "--precision-file" if precision_file else f"--precision {precision}"
        raise McuqError(f"{given} and --budget-{'weights' if budget_weights else 'cycles'} both "
                        "choose the layers' precisions; give one of them")
    precision = precision or "int8"
    if percentile is not None and calib_method != "percentile":
        raise McuqError(f"--percentile applies to --calib-method percentile, not {calib_method}")
    percentile = 99.99 if percentile is None else percentile
    from mcuq.options import QuantOptions

    options = QuantOptions(precision=precision, overrides=load_overrides(precision_file),
                           calib_method=calib_method, percentile=percentile,
                           headroom_db=headroom_db, weight_bits=weight_bits,
                           weight_range=weight_range, weight_outliers=weight_outliers, cfws=cfws,
                           equalize=equalize)
    from mcuq.memory import target

    report = run_export(model, calib, out_dir, name=name, force=force, test_path=test_path,
                        cores=cores, isa=isa, options=options, memory=target(memory_path, l1),
                        budget=budget)
    arena = ("no C (float reference)" if report["arena_bytes"] is None
             else f"arena {report['arena_bytes']} bytes")
    click.echo(f"exported {model} -> {out_dir}: {len(report['layers'])} layers, "
               f"{report['parameters']} parameters, weights {report['weight_bytes']} bytes, "
               f"{arena}")
    _print_layers(report["layers"])
    if "budget" in report:
        b = report["budget"]
        met = [f"{b['weight_bytes']} bytes of weights"
               + (f" (budget {b['weights_budget']})" if b["weights_budget"] else "")]
        if b["cycles_budget"]:
            met.append(f"{b['cycles']:.0f} cycles per frame (budget {b['cycles_budget']})")
        int8 = [row["layer"] for row in b["layers"] if row["precision"] == "int8"]
        click.echo(f"budget met: {', '.join(met)}; int8: {', '.join(int8) or 'none'}, the "
                   f"rest fp16 -> {Path(out_dir) / 'precision.json'}")
    for note in report["notes"]:
        click.echo(f"note: {note}")
    _warn(report["warnings"])


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="Float input, .npy/.npz: (time, features) or (items, time, features).")
@click.option("-o", "--output", "output_path", required=True, type=click.Path(path_type=Path),
              help="Where to write the output .npy.")
@click.option("--raw", is_flag=True, help="Write the int8 codes instead of dequantized floats.")
@engine_option()
def simulate(out_dir, input_path, output_path, raw, engine):
    """Run the bit-exact simulator of the generated C on an input."""
    from mcuq.data import as_sequences, load_array
    from mcuq.files import check_output_file
    from mcuq.pipeline import export_float_graph
    from mcuq.qgraph import QGraph
    from mcuq.engine import simulator
    from mcuq.simulate import saturation_warnings

    qgraph = QGraph.load(out_dir)
    check_output_file(output_path)
    data = load_array(input_path, "input")
    recurrent = qgraph.meta["recurrent"]
    shape = qgraph.input_tensor.shape
    single = data.ndim == len(shape) + 1 and recurrent  # one (time, *shape) sequence
    sequences = as_sequences(data[None] if single else data, shape, recurrent, "input")
    sim = simulator(qgraph, export_float_graph(out_dir, qgraph), engine)
    y_q = sim.run_device(sim.quantize_input(sequences), x_float=sequences)
    y = y_q if raw else sim.dequantize_output(y_q)
    if single:
        y = y[0]
    elif data.ndim == len(shape) + 1:  # (items, *shape) frames of a model without state
        y = y[:, 0]
    save_npy(output_path, y)
    click.echo(f"simulated {sequences.shape[0]} x {sequences.shape[1]} frames -> {output_path}")
    _warn(saturation_warnings(qgraph, sim.saturation))


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output_path", required=True, type=click.Path(path_type=Path),
              help="Where to write the QDQ .onnx model.")
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help="Float frames (items, *input shape) to compare ONNX Runtime on the QDQ "
              "model with the simulator.")
def qdq(out_dir, output_path, input_path):
    """Write the export as an ONNX QDQ model (QuantizeLinear/DequantizeLinear with mcuq's
    scales and zero points), for ONNX Runtime and model viewers."""
    from mcuq import qdq as qdq_model
    from mcuq.data import as_sequences, load_array
    from mcuq.files import check_output_file
    from mcuq.qgraph import QGraph

    qgraph = QGraph.load(out_dir)
    check_output_file(output_path)
    frames = None
    if input_path is not None:
        shape = qgraph.input_tensor.shape
        frames = as_sequences(load_array(input_path, "input"), shape, qgraph.meta["recurrent"],
                              "input")[:, 0]
    model = qdq_model.build(qgraph)
    qdq_model.write(model, output_path)
    click.echo(f"wrote {output_path}: {len(model.graph.node)} ONNX nodes")
    if frames is not None:
        c = qdq_model.compare(model, qgraph, frames)
        click.echo(f"ONNX Runtime on it vs the simulator over {c['frames']} frames: SQNR "
                   f"{c['sqnr_db']:.1f} dB, largest difference {c['max_difference_steps']:g} "
                   "output steps")


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--target", type=click.Choice(["host", "qemu", "rtl"]), default="host",
              show_default=True, help="host: gcc; qemu: RV32 under QEMU; rtl: the CV32E40P "
              "core's RTL under Verilator (int8 layers only; cycle-accurate).")
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help="Float input sequence (default: the first calibration item).")
@click.option("--frames", type=click.IntRange(min=1),
              help="Compare only the first N frames of the input (the RTL runs a small "
              "model's frame in seconds, not microseconds).")
@click.option("--dump-layers", is_flag=True, help="Also compare every layer's output.")
@click.option("--cores", type=int, help="Cluster cores (1 to 8; default: the export's).")
@click.option("--sanitize", is_flag=True,
              help="Host only: build with AddressSanitizer as well as UBSan.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def verify(out_dir, target, input_path, frames, dump_layers, cores, sanitize, as_json):
    """Compile the generated C for a target, run it and compare with the simulator."""
    from mcuq.verify import verify as run_verify

    out_dir = Path(out_dir)
    summary = run_verify(out_dir, target, _verify_frames(out_dir, input_path)[:frames],
                         dump_layers, cores=cores, sanitize=sanitize)
    write_text(out_dir / f"verify_{target}_{summary['cores']}core.json",
               json.dumps(summary, indent=1) + "\n")
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(_verify_line(summary))
        diff = summary.get("first_difference")
        if diff:
            click.echo(f"first difference: frame {diff['frame']}, layer {diff['layer']} "
                       f"(from {diff['source']})")
    sys.exit(0 if summary["bit_exact"] else 1)


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--cores", "cores_list", default="1,8", show_default=True,
              help="Comma-separated core counts to measure.")
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help="Float input sequence (default: the first calibration item).")
@click.option("--clock-mhz", default=370.0, show_default=True, type=POSITIVE_FINITE,
              help="Cluster clock.")
@click.option("--hop-ms", default=6.25, show_default=True, type=POSITIVE_FINITE,
              help="Time per frame (real-time budget).")
@click.option("--target", type=click.Choice(["qemu", "rtl"]), default="qemu", show_default=True,
              help="qemu: instructions per core under QEMU; rtl: cycles on the CV32E40P core's "
              "RTL (int8 only), with the scalar rv32 kernels' cycles beside an xcv export's.")
@click.option("--frames", type=click.IntRange(min=1), help="Use only the first N input frames.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def bench(out_dir, cores_list, input_path, clock_mhz, hop_ms, target, frames, as_json):
    """Count instructions (QEMU) or cycles (RTL) per core: per layer and whole model."""
    from mcuq.bench import bench as run_bench
    from mcuq.bench import bench_rtl

    try:
        cores = [int(c) for c in cores_list.split(",") if c.strip()]
    except ValueError:
        cores = []
    if not cores:
        raise McuqError(f"--cores takes comma-separated core counts such as 1,8, not "
                        f"'{cores_list}'")
    frames_input = _verify_frames(Path(out_dir), input_path)
    if frames:
        frames_input = frames_input[:frames]
    measure = bench_rtl if target == "rtl" else run_bench
    result = measure(out_dir, cores, frames_input, clock_hz=clock_mhz * 1e6, hop_s=hop_ms * 1e-3)
    write_text(Path(out_dir) / ("bench.json" if target == "qemu" else "bench_rtl.json"),
               json.dumps(result, indent=1) + "\n")
    if as_json:
        click.echo(json.dumps(result))
    elif target == "rtl":
        _print_rtl_bench(result, clock_mhz, hop_ms)
    else:
        _print_qemu_bench(result, clock_mhz, hop_ms)


def _print_qemu_bench(result: dict, clock_mhz: float, hop_ms: float) -> None:
    keys = list(result["critical_path_instructions"])
    click.echo(f"{result['model']}: {result['macs']} MACs per frame, {result['frames']} frames; "
               "critical path = instructions of the busiest core")
    click.echo(f"  {'layer':<12} {'MACs':>9} " + " ".join(f"{k + ' core':>12} {'MAC/ins':>7}"
                                                          for k in keys) + "  speedup")
    for row in result["layers"] + [dict(layer="model", macs=result["macs"],
                                        critical_path_instructions=result["critical_path_instructions"],
                                        macs_per_instruction=result["macs_per_instruction"],
                                        speedup=result["speedup"])]:
        cells = " ".join(f"{row['critical_path_instructions'][k]:>12.0f} "
                         f"{row['macs_per_instruction'][k]:>7.3f}" for k in keys)
        click.echo(f"  {row['layer']:<12} {row['macs']:>9} {cells}  {row['speedup'][keys[-1]]:.2f}")
    rt = result["realtime"]
    for k in keys:
        click.echo(f"real time, {k} core(s): {result['critical_path_instructions'][k]:.0f} of "
                   f"{rt['budget_instructions']:.0f} instructions per {hop_ms} ms frame at "
                   f"{clock_mhz:g} MHz ({100 * rt['load'][k]:.1f}% load)")


def _print_rtl_bench(result: dict, clock_mhz: float, hop_ms: float) -> None:
    keys = list(result["critical_path_cycles"])
    scalar = "scalar" in result
    click.echo(f"{result['model']} ({result['isa']}) on {result['core']}: {result['macs']} MACs "
               f"per frame, {result['frames']} frames; critical path = cycles of the busiest "
               "core per barrier phase")
    head = " ".join(f"{k + ' core':>11} {'MAC/cyc':>7}" + (f" {'rv32':>11} {'gain':>6}" if scalar
                                                           else "") for k in keys)
    click.echo(f"  {'layer':<12} {'MACs':>9} {head}")
    total = dict(layer="model", macs=result["macs"], cycles=result["critical_path_cycles"],
                 macs_per_cycle=result["macs_per_cycle"])
    if scalar:
        total.update(scalar_cycles=result["scalar"]["critical_path_cycles"],
                     simd_gain=result["simd_gain"])
    for row in result["layers"] + [total]:
        cells = " ".join(f"{row['cycles'][k]:>11.0f} {row['macs_per_cycle'][k]:>7.3f}"
                         + (f" {row['scalar_cycles'][k]:>11.0f} {row['simd_gain'][k]:>5.1f}x"
                            if scalar else "") for k in keys)
        click.echo(f"  {row['layer']:<12} {row['macs']:>9} {cells}")
    streamed = [row for row in result["layers"] if row.get("dma_bytes")]
    if streamed:
        bw = result["dma_model"]["bytes_per_cycle"]
        click.echo(f"weights streamed L2 -> L1 ({bw} bytes per cycle modelled; the cycles above "
                   "leave the copies out):")
        for row in streamed:
            dma = row["dma"][keys[-1]]
            click.echo(f"  {row['layer']:<12} {row['dma_bytes']:>9.0f} bytes per frame, "
                       f"{dma['dma_cycles']:.0f} cycles of DMA, {dma['exposed_dma_cycles']:.0f} "
                       f"not hidden by {keys[-1]}-core compute")
    rt = result["realtime"]
    for k in keys:
        click.echo(f"real time, {k} core(s): {result['critical_path_cycles'][k]:.0f} of "
                   f"{rt['budget_cycles']:.0f} cycles per {hop_ms} ms frame at {clock_mhz:g} MHz "
                   f"({100 * rt['load'][k]:.1f}% load; single-cycle memory, no bank contention)")


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print the report (report.json with the verification results) as JSON.")
def report(out_dir, as_json):
    """Print the export's per-layer quality, memory and verification results."""
    from mcuq.qgraph import QGraph

    out_dir = Path(out_dir)
    QGraph.load(out_dir)  # says what is wrong with a damaged or edited export
    path = out_dir / "report.json"
    if not path.is_file():
        raise McuqError(f"{out_dir} has no report.json; create it with `mcuq export`")
    try:
        rep = read_json(path, "export report")
    except McuqError as exc:
        raise McuqError(f"{exc}; export the model again") from None
    lines = []
    try:
        arena = ("no C (float reference)" if rep["arena_bytes"] is None else
                 f"arena {rep['arena_bytes']} bytes ({rep['state_bytes']} of recurrent state)")
        lines.append(f"model {rep['model']}: {rep['parameters']} parameters, {rep['precision']}; "
                     f"weights {rep['weight_bytes']} bytes; {arena}")
        lines.append(f"calibration: {rep['calibration_items']} items, "
                     f"{rep['calibration_frames']} frames; quantized vs float SQNR on "
                     f"{rep['report_items']} items of {rep['report_data']}:")
        lines += _layer_lines(rep["layers"])
        lines += [f"warning: {w}" for w in rep.get("warnings", [])]
        if rep.get("memory"):
            lines += _memory_lines(rep)
        verified = {}
        for vpath in sorted(out_dir.glob("verify_*.json")):
            path = vpath
            verified[vpath.stem] = read_json(vpath, "verify result")
            lines.append("verify " + _verify_line(verified[vpath.stem]))
            sizes = verified[vpath.stem].get("sections")
            if sizes:
                lines.append("  " + _sections_line(sizes))
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise McuqError(f"{path} lacks a field or has a wrong one ({exc}); export the model "
                        "again") from None
    if as_json:
        click.echo(json.dumps({**rep, "verify": verified}))
    else:
        click.echo("\n".join(lines))


LEVEL_TITLES = {"l1": "L1", "l2": "L2", "nvm": "NVM"}


def _memory_lines(rep: dict) -> list[str]:
    """Per layer: op, precision, parameters, MACs, weight bytes and their level, output
    bytes, tile and bytes moved per frame; totals per memory level; the arena."""
    memory = rep["memory"]
    target, used = memory["target"], memory["used"]
    placed = memory["layers"]
    sizes = ", ".join(f"{LEVEL_TITLES[k]} {target[k]}" for k in LEVEL_TITLES)
    lines = [f"memory (target bytes: {sizes}; {target['l1_reserved']} of L1 for stacks):",
             f"  {'layer':<12} {'op':<10} {'precision':<9} {'params':>8} {'MACs':>9} "
             f"{'weights B':>10} {'level':<5} {'output B':>8} {'tile':>9} {'moved B/frame':>13}"]
    for row in rep["layers"]:
        place = placed.get(row["layer"], {})
        tile = f"{place['tile_units']}/{place['units']}" if place.get("streamed") else "-"
        level = LEVEL_TITLES.get(place.get("weights"), "-") if row["weight_bytes"] else "-"
        lines.append(f"  {row['layer']:<12} {row['kind']:<10} {row['precision']:<9} "
                     f"{row.get('parameters', 0):>8} {row.get('macs', 0):>9} "
                     f"{row['weight_bytes']:>10} {level:<5} {row.get('activation_bytes', 0):>8} "
                     f"{tile:>9} {place.get('bytes_moved', 0):>13}")
    lines.append("  used: " + "; ".join(f"{LEVEL_TITLES[k]} {used[k]} of {target[k]} bytes"
                                       for k in LEVEL_TITLES)
                 + f" (L1: stacks, {memory['stream_bytes']} bytes of stream buffer"
                 + (", the arena" if memory["arena"] == "l1" else "") + ", resident weights)")
    naive = rep.get("arena_naive_bytes")
    lines.append(f"  arena {rep['arena_bytes']} bytes in {LEVEL_TITLES[memory['arena']]}"
                 + (f", {naive} without reuse by lifetime" if naive else "")
                 + f"; streamed weights move {memory['bytes_moved']} bytes per frame")
    return lines


def _sections_line(sizes: dict) -> str:
    model, program = sizes["model"], sizes["program"]
    return (f"sections ({sizes['tool']}): model text {model['text']}, data {model['data']}, "
            f"bss {model['bss']} bytes; whole QEMU program text {program['text']}, data "
            f"{program['data']}, bss {program['bss']}")


@cli.command()
@click.argument("exports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--data", help="Evaluation data: labelled images (any source `mcuq images` "
              "reads) for a classifier, or a speech corpus folder for a speech model.")
@click.option("--split", default="test", show_default=True, help="The corpus split (speech).")
@click.option("--limit", type=click.IntRange(1), help="Evaluate only the first N items.")
@click.option("--ber", "rates", default="1e-4,1e-3,1e-2", show_default=True,
              help="Comma-separated bit error rates: the probability that a stored weight "
                   "bit flips, each in (0, 0.5].")
@click.option("--patterns", default=20, show_default=True, type=int,
              help="Bit error patterns per rate (seeded, reproducible).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1))
@click.option("--metric", type=click.Choice(["top1-error", "pesq", "stoi", "si-sdr"]),
              help="The score [default: top1-error for images, pesq for speech].")
@click.option("--jobs", type=click.IntRange(1), help="Parallel runs [default: the cores].")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Where results.json, results.md and curve.png go; with --write-firmware "
                   "the new export directory.")
@click.option("--write-firmware", "pattern", type=click.IntRange(0),
              help="Instead of evaluating, write pattern N at the one --ber rate as a new "
                   "export (C included) that `mcuq verify` proves.")
@click.option("--force", is_flag=True, help="With --write-firmware: replace the output.")
@engine_option()
def robustness(exports, data, split, limit, rates, patterns, seed, metric, jobs, out_dir,
               pattern, force, engine):
    """The task metric of each EXPORT under random bit errors in its stored weights:
    mean and spread over seeded patterns per bit error rate (docs/robustness.md)."""
    import shlex

    from mcuq import robustness as rb
    from mcuq.qgraph import QGraph

    rate_list = rb.bit_errors.parse_rates(rates)
    if pattern is not None:
        if len(exports) != 1 or len(rate_list) != 1:
            raise McuqError("--write-firmware writes one flipped model: give one export and "
                            "one --ber rate")
        count = rb.write_flipped_export(exports[0], out_dir, rate_list[0], pattern, seed, force)
        click.echo(f"wrote {out_dir}: {exports[0]} with {count} weight bits flipped (rate "
                   f"{rate_list[0]:g}, pattern {pattern}, seed {seed}); prove it with "
                   f"`mcuq verify {out_dir}`")
        return
    if patterns < 1:
        raise McuqError(f"--patterns {patterns}: run at least one bit error pattern")
    if force:
        raise McuqError("--force applies to --write-firmware; results files are replaced "
                        "whole")
    models = {}
    for path in exports:
        qgraph = QGraph.load(path)
        qgraph.require_c("robustness")
        rb.bit_errors.sites(qgraph)  # says when there is nothing to flip
        label = Path(path).name
        while label in models:
            label += "'"
        models[label] = (qgraph, _robustness_task(qgraph, data, split, limit, metric, engine))
    command = "mcuq " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = rb.sweep(models, rate_list, patterns, seed, jobs)
    rb.write_results(result, out_dir, command)
    click.echo(rb.markdown(result, command))


def _robustness_task(qgraph, data: str | None, split: str, limit: int | None,
                     metric: str | None, engine: str = "auto"):
    """The task the evaluation data calls for (a speech corpus folder, or labelled
    images), with the metric checked against it."""
    from mcuq.speech.robustness import METRICS, Enhancement
    from mcuq.vision.robustness import Classification

    if data is None:
        raise McuqError("robustness needs evaluation data: --data <labelled images> for a "
                        "classifier, --data <speech corpus folder> for a speech model")
    root = Path(data)
    if root.is_dir() and (root / f"noisy_{split}set_wav").is_dir():
        metric = metric or "pesq"
        if metric not in METRICS:
            raise McuqError(f"--metric {metric} does not score speech; use one of "
                            f"{', '.join(METRICS)}")
        return Enhancement(qgraph, root, split, limit, metric, engine)
    if metric not in (None, "top1-error"):
        raise McuqError(f"--metric {metric} scores enhanced speech, and {data} is no speech "
                        f"corpus folder with noisy_{split}set_wav/; use top1-error for images")
    return Classification(qgraph, data, limit, engine)


def _warn(lines) -> None:
    for line in lines:
        click.echo(f"warning: {line}", err=True)


def _add_application_commands() -> None:
    from mcuq.speech.commands import COMMANDS as SPEECH
    from mcuq.vision.commands import COMMANDS as VISION

    for command in SPEECH + VISION:
        cli.add_command(command)


_add_application_commands()


def _verify_frames(out_dir: Path, input_path: Path | None) -> np.ndarray:
    """The input sequence of verify and bench: --input's first item, or the export's,
    checked against the export's input as every command checks its data."""
    from mcuq.data import load_array, one_sequence
    from mcuq.qgraph import QGraph

    qgraph = QGraph.load(out_dir)  # says what is wrong with the directory
    if input_path is None:
        if not (out_dir / "verify_input.npy").is_file():
            raise McuqError(f"{out_dir} has no verify_input.npy; pass --input")
        raw, what = load_array(out_dir / "verify_input.npy", "verification input"), "verification input"
    else:
        raw, what = load_array(input_path, "input"), "input"
    return one_sequence(raw, qgraph.input_tensor.shape, qgraph.meta.get("recurrent", True), what)


def _verify_line(summary: dict) -> str:
    """One verify result, as `verify` prints it and `report` lists it."""
    verdict = "bit-exact" if summary["bit_exact"] else "MISMATCH"
    line = (f"{summary['target']}, {summary['cores']} core(s): {verdict}: {summary['frames']} "
            f"frames, {summary['compared_bytes']} bytes compared, "
            f"{summary['mismatched_bytes']} differ")
    if "instructions_per_frame" in summary:
        line += f"; {summary['instructions_per_frame']['mean']:.0f} instructions per frame"
    return line


def _layer_lines(layers) -> list[str]:
    lines = [f"  {'layer':<12} {'kind':<8} {'precision':<9} {'SQNR dB':>8} {'weights B':>10}"
             f"  {'weight range':<14} {'clipped':>8} {'w SQNR dB':>9}"]
    if any("outlier_bits_per_weight" in row for row in layers):
        lines[0] += f" {'outliers b/w':>12}"
    for row in layers:
        weights = ""
        if "weight_range" in row:
            weights = (f"  {row['weight_range']:<14} {100 * row['weights_clipped']:>7.2f}% "
                       f"{row['weight_sqnr_db']:>9.2f}")
        if "outlier_bits_per_weight" in row:
            weights += f" {row['outlier_bits_per_weight']:>12.3f}"
        lines.append(f"  {row['layer']:<12} {row['kind']:<8} {row['precision']:<9} "
                     f"{row['sqnr_db']:>8.2f} {row['weight_bytes']:>10}{weights}")
    return lines


def _print_layers(layers) -> None:
    click.echo("\n".join(_layer_lines(layers)))


class _Stopped(BaseException):
    """SIGTERM or SIGHUP: unwinds like an exception, so that every temporary file and
    directory is removed on the way out and no output is left half-written."""


def _stop(signum, frame):
    raise _Stopped(signum)


def main() -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        cli.main(standalone_mode=False)
    except _Stopped as stop:
        name = signal.Signals(stop.args[0]).name
        click.echo(f"mcuq: stopped by {name}; nothing half-written was left", err=True)
        sys.exit(128 + stop.args[0])
    except McuqError as exc:
        click.echo(f"mcuq: error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("mcuq: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:  # usage errors: one line too, no usage dump
        command = getattr(getattr(exc, "ctx", None), "command_path", "mcuq")
        click.echo(f"mcuq: error: {exc.format_message()} (see `{command} --help`)", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # disk full, permissions: the user's environment
        click.echo(f"mcuq: error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""mcuq enhance: noisy audio in, enhanced audio out, through the quantized model.

STFT -> log(1 + |X|) features -> the model frame by frame (the simulator, or the
generated firmware under QEMU) -> mask -> masked spectrum -> inverse STFT.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.chip import check_cores
from mcuq.errors import McuqError
from mcuq.harness import built, outputs_of, parse, run
from mcuq.qgraph import QGraph
from mcuq.pipeline import export_float_graph
from mcuq.simulate import Simulator, decode, saturation_warnings
from mcuq.speech import audio
from mcuq.toolchain import check_toolchain

TARGETS = ("sim", "qemu", "host")


def check_speech_model(qgraph: QGraph) -> None:
    sizes = (qgraph.input_tensor.size, qgraph.output_tensor.size)
    if sizes != (audio.BINS, audio.BINS):
        raise McuqError(f"the model maps {sizes[0]} features to {sizes[1]}; speech enhancement "
                        f"needs {audio.BINS} spectral bins in and a {audio.BINS}-bin mask out")


def model_masks(out_dir: Path, feats: np.ndarray, target: str = "sim", cores: int | None = None,
                warnings: list | None = None) -> np.ndarray:
    """The mask (frames, 257) the quantized model computes for one clip's features; the
    simulator's saturation warnings are appended to `warnings`."""
    if target not in TARGETS:
        raise McuqError(f"unknown target '{target}'; use one of {', '.join(TARGETS)}")
    qgraph = QGraph.load(out_dir)
    check_speech_model(qgraph)
    sim = Simulator(qgraph, export_float_graph(out_dir, qgraph) if warnings is not None else None)
    frames = sim.quantize_input(feats[None])
    # what every target computes
    mask = sim.dequantize_output(sim.run_device(frames, x_float=feats[None])[0])
    if warnings is not None:
        warnings += saturation_warnings(qgraph, sim.saturation)
    if target == "sim":
        return mask
    qgraph.require_c(f"--target {target}")
    check_toolchain(target)
    cores = check_cores(cores or qgraph.meta.get("cores", 1))
    with built(Path(out_dir), qgraph, target, frames[0], trace=False, cores=cores) as elf:
        outputs, _, _ = parse(run(elf, target, timeout_s=1800, cores=cores).stdout)
    return decode(outputs_of(outputs, qgraph.output_tensor), qgraph.output_tensor)


def enhance_file(noisy_path: Path, out_dir: Path, output_path: Path, target: str = "sim",
                 cores: int | None = None) -> dict:
    from mcuq.files import check_output_file

    check_output_file(output_path)  # before the work, not after it
    samples = audio.read_wav(noisy_path)
    spectrum = audio.stft(samples)
    warnings: list[str] = []
    mask = model_masks(out_dir, audio.features(spectrum), target, cores, warnings)
    audio.write_wav(output_path, audio.apply_mask(spectrum, mask, samples.size))
    return {"frames": int(spectrum.shape[0]), "seconds": samples.size / audio.SAMPLE_RATE,
            "warnings": warnings}

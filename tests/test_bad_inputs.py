"""Bad input, table-driven: every case exits non-zero with one line on stderr saying what
is wrong (the phrase checked), no traceback, and nothing left behind (no output, no
temporary files)."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import onnx
from onnx import TensorProto, helper, numpy_helper

from conftest import make_stack, random_sequences, save_model
from mcuq.export import export
from passtest import onnx_model

MCUQ = [sys.executable, "-m", "mcuq.cli"]
F, T = 7, 6  # features and frames of the small model


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Shared inputs: a small model in several forms, data files, an export."""
    d = tmp_path_factory.mktemp("bad")
    torch.manual_seed(0)
    model = make_stack(3, F, 5, [("gru", 3)], F)
    save_model(model, torch.zeros(1, T, F), "onnx_legacy", d / "model")
    save_model(model, torch.zeros(1, T, F), "torchscript", d / "model")
    good = random_sequences(3, T, F, seed=1)
    arrays = {"calib.npy": good, "wrong_features.npy": good[..., :3], "rank1.npy": good[0, 0],
              "zero_items.npy": good[:0], "nan.npy": np.where(good > 1, np.nan, good),
              "inf.npy": np.where(good > 1, np.inf, good), "huge.npy": np.full_like(good, 3e38),
              "complex.npy": good.astype(np.complex64), "strings.npy": np.array(["a", "b"]),
              "zero_frames.npy": good[:, :0], "one_seq.npy": good[0]}
    for name, a in arrays.items():
        np.save(d / name, a)
    np.save(d / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(d / "empty.npz")
    np.savez(d / "several.npz", a=good, b=good)
    (d / "empty.onnx").write_bytes(b"")
    (d / "text.pt").write_text("hello, I am not a model\n")
    (d / "junk.pt2").write_bytes(b"PK\x03\x04" + b"x" * 200)
    data = (d / "model.pt").read_bytes()
    (d / "truncated.pt").write_bytes(data[: len(data) // 2])
    data = (d / "model.onnx").read_bytes()
    (d / "truncated.onnx").write_bytes(data[: len(data) // 3])
    torch.save(model.state_dict(), d / "state_dict.pt")
    torch.save(model, d / "pickled_module.pt")
    (d / "a_folder.onnx").mkdir()
    soft = onnx_model([helper.make_node("Erf", ["x"], ["y"], name="erf1")], {}, [1, F])
    (d / "softmax.onnx").write_bytes(soft.SerializeToString())
    conv1d = onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")],
                        {"w": np.ones((1, 1, 3))}, [1, 1, 9], out_shape=(1, 1, None))
    (d / "conv1d.onnx").write_bytes(conv1d.SerializeToString())
    for name, attrs, w in (("dilated", {"dilations": [0, 2]}, np.ones((4, 4, 3, 3))),
                           ("grouped", {"group": 2}, np.ones((4, 2, 3, 3))),
                           ("image", {"pads": [1, 1, 1, 1]}, np.ones((4, 4, 3, 3))),
                           ("pool_dilated", {}, None)):
        node = (helper.make_node("MaxPool", ["x"], ["y"], name="pool1", kernel_shape=[2, 2],
                                 strides=[2, 2], dilations=[1, 0]) if w is None else
                helper.make_node("Conv", ["x", "w"], ["y"], name="conv2", **attrs))
        model = onnx_model([node], {} if w is None else {"w": w}, [1, 4, 7, 7],
                           out_shape=(1, 4, None, None))
        (d / f"{name}.onnx").write_bytes(model.SerializeToString())
    (d / "no_classes").mkdir()
    (d / "empty_classes" / "cat").mkdir(parents=True)
    (d / "bad_image" / "cat").mkdir(parents=True)
    (d / "bad_image" / "cat" / "0.png").write_bytes(b"\x89PNG not really")
    (d / "short.bin").write_bytes(bytes(3000))
    np.savez(d / "no_x.npz", images=np.zeros((2, 3, 8, 8)))
    np.savez(d / "unlabelled.npz", x=np.zeros((2, 1, 32, 32), np.float32))
    image_calib = np.random.default_rng(0).standard_normal((6, 4, 7, 7)).astype(np.float32)
    np.save(d / "images.npy", image_calib)
    np.save(d / "images_3ch.npy", image_calib[:, :3])
    np.save(d / "images_small.npy", image_calib[:, :, :5, :5])
    two_out = onnx_model([helper.make_node("Relu", ["x"], ["y"]),
                          helper.make_node("Sigmoid", ["x"], ["z"])], {}, [1, F])
    two_out.graph.output.append(helper.make_tensor_value_info("z", 1, [1, F]))
    (d / "two_outputs.onnx").write_bytes(two_out.SerializeToString())
    empty_graph = onnx_model([helper.make_node("Relu", ["x"], ["y"])], {}, [1, F])
    del empty_graph.graph.node[:]
    (d / "no_nodes.onnx").write_bytes(empty_graph.SerializeToString())
    for name, doc in {"bad_json.json": "{", "not_map.json": "[1]",
                      "unknown_layer.json": json.dumps({"lstm9": "int8"}),
                      "int4.json": json.dumps({"gru0": "int4"})}.items():
        (d / name).write_text(doc)
    export(d / "model.onnx", d / "calib.npy", d / "out")
    export(d / "model.onnx", d / "calib.npy", d / "ref", precision="fp32-ref")
    export(d / "model.onnx", d / "calib.npy", d / "mixed", precision="mixed", isa="xcv")
    (d / "plain_file").write_text("x")
    (d / "other_dir").mkdir()
    (d / "other_dir" / "precious.txt").write_text("keep me")
    (d / "existing").mkdir()
    (d / "existing" / "model.json").write_text("{}")
    rng = np.random.default_rng(0)
    soundfile.write(d / "noisy.wav", rng.standard_normal(8000) * 0.1, 16000)
    soundfile.write(d / "noisy8k.wav", rng.standard_normal(8000) * 0.1, 8000)
    soundfile.write(d / "stereo.wav", rng.standard_normal((8000, 2)) * 0.1, 16000)
    samples = rng.standard_normal(8000) * 0.1
    samples[100] = np.nan
    soundfile.write(d / "nan.wav", samples, 16000, subtype="FLOAT")
    (d / "corpus_full").mkdir()
    (d / "corpus_full" / "x").write_text("x")
    hostile_files(d, good)
    return d


def raw_model(nodes, inits, in_shape, out_shape, opset=17) -> onnx.ModelProto:
    """An ONNX model as a stranger might write it: not passed through onnx's checker."""
    graph = helper.make_graph(
        nodes, "hostile", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def hostile_files(d: Path, good: np.ndarray) -> None:
    """Malformed files of every kind mcuq reads: nested JSON, damaged or lying arrays,
    FIFOs, malformed ONNX graphs, bombs."""
    rng = np.random.default_rng(3)
    deep = "[" * 100_000 + "]" * 100_000
    (d / "deep.json").write_text(deep)
    buf = io.BytesIO()
    np.savez(buf, x=good)
    raw = bytearray(buf.getvalue())
    raw[raw.find(b"\x93NUMPY") + 200] ^= 0xFF
    (d / "bad_crc.npz").write_bytes(bytes(raw))
    with zipfile.ZipFile(d / "not_npy.npz", "w") as z:
        z.writestr("readme.txt", b"hello")
    with zipfile.ZipFile(d / "not_array.npz", "w") as z:
        z.writestr("x.npy", b"hello")
    np.savez(d / "objects.npz", x=np.array([{"a": 1}], dtype=object))
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6, F)}
    with open(d / "terabytes.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(bytes(1000))
    os.mkfifo(d / "fifo.onnx")
    os.mkfifo(d / "fifo.npy")
    x7 = [1, F]
    models = {
        "concat_no_axis": raw_model([helper.make_node("Concat", ["x", "x"], ["y"])], {}, x7, [1, 2 * F]),
        "gru_no_hidden": raw_model([helper.make_node("GRU", ["x", "W", "R"], ["y"], name="gru")],
                                   {"W": rng.standard_normal((1, 9, F)).astype(np.float32),
                                    "R": rng.standard_normal((1, 9, 3)).astype(np.float32)},
                                   [T, 1, F], [T, 1, 1, 3]),
        "transpose_perm": raw_model([helper.make_node("Transpose", ["x"], ["y"], perm=[5, 1])], {}, x7, x7),
        "unsqueeze_no_axes": raw_model([helper.make_node("Unsqueeze", ["x"], ["y"])], {}, x7, [1, 1, F]),
        "two_writers": raw_model([helper.make_node("Relu", ["x"], ["y"]),
                                  helper.make_node("Sigmoid", ["x"], ["y"])], {}, x7, x7),
        "cycle": raw_model([helper.make_node("Relu", ["x"], ["a"]),
                            helper.make_node("Add", ["a", "y"], ["b"], name="add"),
                            helper.make_node("Relu", ["b"], ["y"])], {}, x7, x7),
        "reads_nothing": raw_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")], {}, x7, x7),
        "nan_weights": raw_model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                                 {"w": np.full((F, 5), np.nan, np.float32)}, x7, [1, 5]),
        "bn_negative_variance": raw_model(
            [helper.make_node("MatMul", ["x", "w"], ["h"]),
             helper.make_node("BatchNormalization", ["h", "s", "b", "m", "v"], ["y"], name="bn")],
            {"w": rng.standard_normal((F, 5)).astype(np.float32), "s": np.ones(5, np.float32),
             "b": np.zeros(5, np.float32), "m": np.zeros(5, np.float32),
             "v": -np.ones(5, np.float32)}, x7, [1, 5]),
        "constant_loop": raw_model([helper.make_node("Loop", ["trips", "", "v0"], ["v"], name="loop",
                                                     body=_loop_body()),
                                    helper.make_node("Add", ["x", "v"], ["y"])],
                                   {"trips": np.array(10**9, np.int64), "v0": np.zeros(1, np.float32)},
                                   x7, x7),
        "dropout_training": raw_model([helper.make_node("Dropout", ["x", "ratio", "train"], ["y"], name="drop")],
                                      {"ratio": np.array(0.5, np.float32), "train": np.array(True)},
                                      x7, x7),
        "huge_constant": raw_model([helper.make_node("ConstantOfShape", ["shape"], ["c"]),
                                    helper.make_node("Add", ["x", "c"], ["y"])],
                                   {"shape": np.array([1 << 40], np.int64)}, x7, x7),
    }
    for name, model in models.items():
        onnx.save(model, str(d / f"{name}.onnx"))
    m = raw_model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                  {"w": rng.standard_normal((F, 5)).astype(np.float32)}, x7, [1, 5])
    onnx.save(m, str(d / "external.onnx"), save_as_external_data=True, location="external.data",
              size_threshold=0)
    (d / "external_empty").mkdir()
    m = raw_model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                  {"w": rng.standard_normal((F, 5)).astype(np.float32)}, x7, [1, 5])
    onnx.save(m, str(d / "external_empty" / "m.onnx"), save_as_external_data=True,
              location="m.data", size_threshold=0)
    (d / "external_empty" / "m.data").write_bytes(b"")
    outside = onnx.load(str(d / "external.onnx"), load_external_data=False)
    for entry in outside.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = "../../../../etc/hostname"
    onnx.save(outside, str(d / "external_outside.onnx"))
    from PIL import Image

    (d / "bomb" / "a").mkdir(parents=True)
    Image.new("L", (12_000, 12_000)).save(d / "bomb" / "a" / "0.png")
    (d / "mixed" / "grey").mkdir(parents=True)
    (d / "mixed" / "red").mkdir(parents=True)
    Image.fromarray(np.full((8, 8), 100, np.uint8), "L").save(d / "mixed" / "grey" / "0.png")
    Image.fromarray(np.full((8, 8, 3), [255, 0, 0], np.uint8), "RGB").save(d / "mixed" / "red" / "0.png")
    np.savez(d / "int32_images.npz", x=np.full((2, 1, 8, 8), 1000, np.int32))


def _loop_body():
    return helper.make_graph(
        [helper.make_node("Identity", ["cond"], ["cond_out"]),
         helper.make_node("Add", ["v_in", "one"], ["v_out"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.ones(1, np.float32), "one")])


def damaged_copy(work: Path, tmp: Path, damage) -> Path:
    out = tmp / "copy"
    shutil.copytree(work / "out", out)
    damage(out)
    return out


def truncate(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


EX = ["export", "{w}/model.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"]
# (case, args, phrase on the error line); {w} the shared folder, {t} this case's own
CASES = [
    # model files
    ("model missing", ["export", "{w}/nope.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "not found"),
    ("model is a folder", ["export", "{w}/a_folder.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "directory"),
    ("model empty", ["export", "{w}/empty.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "is empty"),
    ("model is text", ["export", "{w}/text.pt", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "neither an ONNX file nor"),
    ("truncated torchscript", ["export", "{w}/truncated.pt", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "damaged zip"),
    ("junk pt2", ["export", "{w}/junk.pt2", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "damaged zip"),
    ("truncated onnx", ["export", "{w}/truncated.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "not a valid ONNX"),
    ("onnx without nodes", ["export", "{w}/no_nodes.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "no nodes"),
    ("state dict", ["export", "{w}/state_dict.pt", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "state_dict"),
    ("pickled module", ["export", "{w}/pickled_module.pt", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "would run code"),
    ("unsupported op", ["export", "{w}/softmax.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "op Erf (node 'erf1')"),
    ("conv 1-d, other data", ["export", "{w}/conv1d.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "the model input has [1, 9]"),
    ("conv dilated", ["export", "{w}/dilated.onnx", "--calib", "{w}/images.npy", "-o", "{t}/o"], "node 'conv2' (Conv) has dilations [0, 2]; mcuq needs two of at least 1"),
    ("conv groups", ["export", "{w}/grouped.onnx", "--calib", "{w}/images.npy", "-o", "{t}/o"], "node 'conv2' (Conv) has 2 groups"),
    ("maxpool dilated", ["export", "{w}/pool_dilated.onnx", "--calib", "{w}/images.npy", "-o", "{t}/o"], "node 'pool1' (MaxPool) has dilations [1, 0]"),
    ("images wrong channels", ["export", "{w}/image.onnx", "--calib", "{w}/images_3ch.npy", "-o", "{t}/o"], "shape"),
    ("images wrong size", ["export", "{w}/image.onnx", "--calib", "{w}/images_small.npy", "-o", "{t}/o"], "shape"),
    ("weight bits", EX + ["--weight-bits", "9"], "--weight-bits 9: use 2 to 8"),
    # image data
    ("images missing", ["images", "{w}/nope", "-o", "{t}/o.npz"], "image source not found"),
    ("images no classes", ["images", "{w}/no_classes", "-o", "{t}/o.npz"], "holds no class folders"),
    ("images empty folder", ["images", "{w}/empty_classes", "-o", "{t}/o.npz"], "holds no PNG or JPEG"),
    ("images unreadable", ["images", "{w}/bad_image", "-o", "{t}/o.npz"], "is not a readable image"),
    ("images cifar size", ["images", "{w}/short.bin", "-o", "{t}/o.npz"], "not a CIFAR-10 binary"),
    ("images npz without x", ["images", "{w}/no_x.npz", "-o", "{t}/o.npz"], "has no array 'x'"),
    ("top1 unlabelled", ["top1", "{w}/image.onnx", "--calib", "{w}/unlabelled.npz", "--test", "{w}/unlabelled.npz"], "have no labels"),
    ("top1 bad config", ["top1", "{w}/image.onnx", "--calib", "{w}/unlabelled.npz", "--test", "{w}/unlabelled.npz", "--configs", "int4"], "start with int8"),
    ("percentile", EX + ["--calib-method", "percentile", "--percentile", "0"], "--percentile 0:"),
    ("two outputs", ["export", "{w}/two_outputs.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "exactly one output"),
    # options that would be ignored or are nonsense
    ("percentile without its method", EX + ["--percentile", "99"], "applies to --calib-method percentile"),
    ("percentile tiny", EX + ["--calib-method", "percentile", "--percentile", "1e-9"], "above 50"),
    ("bench clock NaN", ["bench", "{w}/out", "--clock-mhz", "nan"], "not a finite number"),
    ("bench hop inf", ["bench", "{w}/out", "--hop-ms", "inf"], "not a finite number"),
    ("enhance cores with the simulator", ["enhance", "{w}/noisy.wav", "-m", "{w}/out", "-o", "{t}/e.wav", "--cores", "4"], "--cores applies to --target"),
    ("eval limit 0", ["eval", "{w}/model.onnx", "--calib", "{w}/calib.npy", "--data", "{w}", "--limit", "0", "-o", "{t}/e"], "Invalid value for '--limit'"),
    ("corpus seed -1", ["corpus", "{t}/c", "--seed", "-1"], "Invalid value for '--seed'"),
    ("name of the runtime", EX + ["--name", "runtime"], "the name of a file"),
    ("name of a kernel", EX + ["--name", "linear_s8"], "the name of a file"),
    ("name with mcuq's prefix", EX + ["--name", "mcuq_runtime"], "mcuq's own prefix"),
    ("name a C keyword", EX + ["--name", "int"], "a C keyword"),
    ("training-mode dropout", ["export", "{w}/dropout_training.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "(Dropout) is in training mode"),
    # hostile files: each is one line, never a traceback or a hang
    ("deep JSON", EX + ["--precision-file", "{w}/deep.json"], "nested too deeply"),
    ("npz bad CRC", EX[:3] + ["{w}/bad_crc.npz", "-o", "{t}/o"], "Bad CRC-32"),
    ("npz member not npy", EX[:3] + ["{w}/not_npy.npz", "-o", "{t}/o"], "member 'readme.txt' is not an .npy"),
    ("npz member not an array", EX[:3] + ["{w}/not_array.npz", "-o", "{t}/o"], "array 'x' is not a readable"),
    ("npz object array", EX[:3] + ["{w}/objects.npz", "-o", "{t}/o"], "holds Python objects"),
    ("npy of terabytes", EX[:3] + ["{w}/terabytes.npy", "-o", "{t}/o"], "holds 1000 bytes of data"),
    ("model is a FIFO", ["export", "{w}/fifo.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "is a FIFO"),
    ("calib is a FIFO", EX[:3] + ["{w}/fifo.npy", "-o", "{t}/o"], "is a FIFO"),
    ("model is a device", ["export", "/dev/zero", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "is a character device"),
    ("onnx required attribute", ["export", "{w}/concat_no_axis.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "lacks its required attribute 'axis'"),
    ("onnx transpose perm", ["export", "{w}/transpose_perm.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "not a permutation"),
    ("onnx unsqueeze without axes", ["export", "{w}/unsqueeze_no_axes.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "has 1 input(s)"),
    ("onnx two writers", ["export", "{w}/two_writers.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "written by node #1 (Sigmoid) and by node #0 (Relu)"),
    ("onnx cycle", ["export", "{w}/cycle.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "has a cycle"),
    ("onnx reads nothing", ["export", "{w}/reads_nothing.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "reads 'ghost', which no node"),
    ("onnx NaN weights", ["export", "{w}/nan_weights.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "NaN or infinite values; the model file"),
    ("onnx negative variance", ["export", "{w}/bn_negative_variance.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "has variance -1"),
    ("onnx constant loop", ["export", "{w}/constant_loop.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "1000000000 iterations"),
    ("onnx huge constant", ["export", "{w}/huge_constant.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "constant of 1099511627776 values"),
    ("onnx external data empty", ["export", "{w}/external_empty/m.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "which holds 0 bytes"),
    ("onnx external data outside", ["export", "{w}/external_outside.onnx", "--calib", "{w}/calib.npy", "-o", "{t}/o"], "outside the model's folder"),
    ("images bomb", ["images", "{w}/bomb", "-o", "{t}/o.npz"], "decompression bomb"),
    ("images int32 beyond 8 bits", ["images", "{w}/int32_images.npz", "-o", "{t}/o.npz"], "int32 values from 1000 to 1000"),
    # calibration data
    ("calib missing", EX[:3] + ["{w}/nope.npy", "-o", "{t}/o"], "not found"),
    ("calib not npy", EX[:3] + ["{w}/text.pt", "-o", "{t}/o"], "not a readable"),
    ("calib objects", EX[:3] + ["{w}/objects.npy", "-o", "{t}/o"], "holds Python objects"),
    ("calib empty npz", EX[:3] + ["{w}/empty.npz", "-o", "{t}/o"], "holds no arrays"),
    ("calib several arrays", EX[:3] + ["{w}/several.npz", "-o", "{t}/o"], "several arrays (a, b)"),
    ("calib wrong features", EX[:3] + ["{w}/wrong_features.npy", "-o", "{t}/o"], "3 features"),
    ("calib rank 1", EX[:3] + ["{w}/rank1.npy", "-o", "{t}/o"], "expected items on axis 0"),
    ("calib zero items", EX[:3] + ["{w}/zero_items.npy", "-o", "{t}/o"], "is empty"),
    ("calib zero frames", EX[:3] + ["{w}/zero_frames.npy", "-o", "{t}/o"], "is empty"),
    ("calib NaN", EX[:3] + ["{w}/nan.npy", "-o", "{t}/o"], "NaN or infinite"),
    ("calib inf", EX[:3] + ["{w}/inf.npy", "-o", "{t}/o"], "NaN or infinite"),
    ("calib complex", EX[:3] + ["{w}/complex.npy", "-o", "{t}/o"], "not real numbers"),
    ("calib strings", EX[:3] + ["{w}/strings.npy", "-o", "{t}/o"], "not real numbers"),
    ("calib overflows", EX[:3] + ["{w}/huge.npy", "-o", "{t}/o"], "overflows float32"),
    ("test data wrong", EX + ["--test", "{w}/wrong_features.npy"], "3 features"),
    # export options
    ("cores 0", EX + ["--cores", "0"], "1 to 8 cores"),
    ("cores 9", EX + ["--cores", "9"], "1 to 8 cores"),
    ("bad name", EX + ["--name", "1model"], "not a C identifier"),
    ("unknown precision", EX + ["--precision", "int4"], "Invalid value for '--precision'"),
    ("unknown isa", EX + ["--isa", "arm"], "Invalid value for '--isa'"),
    ("precision file missing", EX + ["--precision-file", "{w}/nope.json"], "not found"),
    ("precision file bad json", EX + ["--precision-file", "{w}/bad_json.json"], "not valid JSON"),
    ("precision file not a map", EX + ["--precision-file", "{w}/not_map.json"], "must map layer"),
    ("precision file unknown layer", EX + ["--precision-file", "{w}/unknown_layer.json"], "no layer"),
    ("precision file int4", EX + ["--precision-file", "{w}/int4.json"], "use int8 or fp16"),
    ("output exists", EX[:5] + ["{w}/existing"], "use --force"),
    ("force over a file", EX[:5] + ["{w}/plain_file", "--force"], "not a directory"),
    ("force over another folder", EX[:5] + ["{w}/other_dir", "--force"], "not an mcuq export"),
    ("output parent missing", EX[:5] + ["{t}/no/such/o"], "does not exist"),
    # simulate
    ("simulate no export", ["simulate", "{w}/nope", "--input", "{w}/calib.npy", "-o", "{t}/y.npy"], "not an mcuq export"),
    ("simulate input missing", ["simulate", "{w}/out", "--input", "{w}/nope.npy", "-o", "{t}/y.npy"], "not found"),
    ("simulate wrong features", ["simulate", "{w}/out", "--input", "{w}/wrong_features.npy", "-o", "{t}/y.npy"], "3 features"),
    ("simulate NaN", ["simulate", "{w}/out", "--input", "{w}/nan.npy", "-o", "{t}/y.npy"], "NaN or infinite"),
    ("simulate rank 1", ["simulate", "{w}/out", "--input", "{w}/rank1.npy", "-o", "{t}/y.npy"], "expected items"),
    ("simulate onto a folder", ["simulate", "{w}/out", "--input", "{w}/calib.npy", "-o", "{w}/other_dir"], "is a directory"),
    ("simulate into missing folder", ["simulate", "{w}/out", "--input", "{w}/calib.npy", "-o", "{t}/no/y.npy"], "does not exist"),
    # verify
    ("verify unknown target", ["verify", "{w}/out", "--target", "fpga"], "Invalid value for '--target'"),
    ("verify cores 9", ["verify", "{w}/out", "--cores", "9"], "1 to 8 cores"),
    ("verify rtl with fp16 layers", ["verify", "{w}/mixed", "--target", "rtl"], "no FPU"),
    ("bench rtl with fp16 layers", ["bench", "{w}/mixed", "--target", "rtl"], "no FPU"),
    ("verify wrong features", ["verify", "{w}/out", "--input", "{w}/wrong_features.npy"], "3 features"),
    ("verify rank 1", ["verify", "{w}/out", "--input", "{w}/rank1.npy"], "expected items"),
    ("verify zero frames", ["verify", "{w}/out", "--input", "{w}/zero_frames.npy"], "is empty"),
    ("verify NaN", ["verify", "{w}/out", "--input", "{w}/nan.npy"], "NaN or infinite"),
    ("verify fp32-ref", ["verify", "{w}/ref"], "fp32-ref export has none"),
    ("verify pickled verify_input", ["verify", "{t}/copy"], "holds Python objects"),
    ("verify edited model.json", ["verify", "{t}/copy"], "model.json: tensors."),
    # bench
    ("bench empty cores", ["bench", "{w}/out", "--cores", ""], "comma-separated core counts"),
    ("bench letters", ["bench", "{w}/out", "--cores", "a,b"], "comma-separated core counts"),
    ("bench cores 0", ["bench", "{w}/out", "--cores", "0"], "1 to 8 cores"),
    ("bench clock 0", ["bench", "{w}/out", "--clock-mhz", "0"], "Invalid value for '--clock-mhz'"),
    ("bench hop negative", ["bench", "{w}/out", "--hop-ms", "-1"], "Invalid value for '--hop-ms'"),
    ("bench fp32-ref", ["bench", "{w}/ref"], "fp32-ref export has none"),
    # report
    ("report no report.json", ["report", "{t}/copy"], "has no report.json"),
    ("report truncated report.json", ["report", "{t}/copy"], "is not valid JSON"),
    ("report edited report.json", ["report", "{t}/copy"], "lacks a field"),
    ("report truncated model.json", ["report", "{t}/copy"], "not valid JSON"),
    # enhance and corpus
    ("enhance wav missing", ["enhance", "{w}/nope.wav", "-m", "{w}/out", "-o", "{t}/e.wav"], "not found"),
    ("enhance into missing folder", ["enhance", "{w}/noisy.wav", "-m", "{w}/out", "-o", "{t}/no/e.wav"], "does not exist"),
    ("enhance 8 kHz", ["enhance", "{w}/noisy8k.wav", "-m", "{w}/out", "-o", "{t}/e.wav"], "16000"),
    ("enhance NaN samples", ["enhance", "{w}/nan.wav", "-m", "{w}/out", "-o", "{t}/e.wav"], "NaN or infinite samples"),
    ("enhance stereo", ["enhance", "{w}/stereo.wav", "-m", "{w}/out", "-o", "{t}/e.wav"], "mono"),
    ("enhance not a speech model", ["enhance", "{w}/noisy.wav", "-m", "{w}/out", "-o", "{t}/e.wav"], "257"),
    ("corpus negative", ["corpus", "{t}/c", "--train", "-1"], "Invalid value for '--train'"),
    ("corpus folder not empty", ["corpus", "{w}/corpus_full"], "not empty"),
]
# what each case that needs a damaged export copy does to it
DAMAGE = {
    "verify pickled verify_input": lambda o: np.save(o / "verify_input.npy",
                                                     np.array([{}], dtype=object), allow_pickle=True),
    "verify edited model.json": lambda o: (o / "model.json").write_text(
        (o / "model.json").read_text().replace('"scale": ', '"scale": -', 1)),
    "report no report.json": lambda o: (o / "report.json").unlink(),
    "report truncated report.json": lambda o: truncate(o / "report.json"),
    "report edited report.json": lambda o: (o / "report.json").write_text(json.dumps({"x": 1})),
    "report truncated model.json": lambda o: truncate(o / "model.json"),
}


def test_the_table_is_large_enough():
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case,args,phrase", CASES, ids=[c[0] for c in CASES])
def test_bad_input(work, tmp_path, case, args, phrase):
    if case in DAMAGE:
        damaged_copy(work, tmp_path, DAMAGE[case])
    before = {p.name for p in work.iterdir()}
    snapshot = {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()}
    argv = [a.replace("{w}", str(work)).replace("{t}", str(tmp_path)) for a in args]
    run = subprocess.run(MCUQ + argv, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0, run.stdout
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcuq: error: "), run.stderr
    assert phrase in lines[0], lines[0]
    # nothing written: no new entry in the shared folder, no file there changed, and in
    # this case's own folder nothing but the damaged copy it started from
    assert {p.name for p in work.iterdir()} == before
    assert {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()
            and "build" not in p.parts} == {p: t for p, t in snapshot.items()
                                              if "build" not in p.parts}
    assert [p.name for p in tmp_path.iterdir()] in ([], ["copy"])
    if case == "force over another folder":
        assert (work / "other_dir" / "precious.txt").read_text() == "keep me"

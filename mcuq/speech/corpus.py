"""A noisy/clean speech corpus that needs no download, and the VoiceBank-DEMAND layout.

Speech is synthesised with espeak-ng (several voices, speeds and pitches, sentences
from templates) and mixed with generated noise (white, pink, brown, babble from
other utterances of the same split, mains hum, amplitude-modulated noise) at SNRs
from -5 to 15 dB. Files are written as Valentini et al. lay them out:
`<root>/clean_<split>set_wav/<id>.wav` and `<root>/noisy_<split>set_wav/<id>.wav`,
so the loader below serves the real VoiceBank-DEMAND set and this one alike.
The train, calib and test splits share no sentence.
"""
from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np

from mcuq.speech.audio import SAMPLE_RATE
from mcuq.errors import McuqError

SUBJECTS = ["the old sailor", "a quiet student", "my neighbour", "the tired doctor",
            "her younger brother", "the city council", "a small child", "the night nurse",
            "our teacher", "the gardener", "a famous singer", "the baker"]
VERBS = ["carried", "painted", "forgot", "found", "repaired", "described", "sold",
         "watched", "borrowed", "ordered", "cleaned", "measured"]
OBJECTS = ["a wooden boat", "the blue kettle", "seven letters", "an old bicycle",
           "the heavy suitcase", "a map of the river", "two warm blankets", "the broken clock",
           "a basket of apples", "the garden fence", "a long report", "the silver key"]
ENDINGS = ["before the storm", "in the morning", "near the station", "after dinner",
           "on a rainy day", "without a word", "for the first time", "at the market",
           "under the bridge", "during the holidays"]
VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us+m3", "en-us+f2",
          "en-gb+f4", "en-us+m7", "en-gb+m2", "en-us+f5"]
NOISES = ("white", "pink", "brown", "babble", "hum", "modulated")
SPLITS = {"train": 600, "calib": 40, "test": 120}


def sentences(seed: int = 0) -> list[str]:
    """All template sentences, shuffled: 12 x 12 x 12 x 10 = 17,280."""
    all_ = [f"{s} {v} {o} {e}." for s, v, o, e in
            itertools.product(SUBJECTS, VERBS, OBJECTS, ENDINGS)]
    np.random.default_rng(seed).shuffle(all_)
    return [s[0].upper() + s[1:] for s in all_]


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling by FFT (the clip is treated as one period)."""
    if rate_in == rate_out:
        return x
    n_out = int(round(x.size * rate_out / rate_in))
    spectrum = np.fft.rfft(x)
    keep = min(spectrum.size, n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, complex)
    out[:keep] = spectrum[:keep]
    return np.fft.irfft(out, n_out) * (n_out / x.size)


def speak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    import soundfile

    if shutil.which("espeak-ng") is None:
        raise McuqError("the speech corpus needs espeak-ng: sudo apt-get install -y espeak-ng")
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                          "--stdout", text], capture_output=True, check=True).stdout
    data, rate = soundfile.read(io.BytesIO(wav), dtype="float64")
    data = resample(data, rate, SAMPLE_RATE)
    return data / (np.max(np.abs(data)) + 1e-9) * 0.5


def coloured_noise(n: int, exponent: float, rng) -> np.ndarray:
    """Noise whose power falls as 1/f^exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE), 20.0)
    return np.fft.irfft(spectrum / f ** (exponent / 2), n)


def make_noise(kind: str, n: int, rng, others: list[np.ndarray]) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    if kind == "white":
        return rng.standard_normal(n)
    if kind == "pink":
        return coloured_noise(n, 1.0, rng)
    if kind == "brown":
        return coloured_noise(n, 2.0, rng)
    if kind == "babble":
        mix = np.zeros(n)
        for k in rng.choice(len(others), size=min(4, len(others)), replace=False):
            voice = others[k]
            start = rng.integers(0, max(1, n - voice.size)) if voice.size < n else 0
            piece = voice[:n - start]
            mix[start:start + piece.size] += piece
        return mix
    if kind == "hum":
        base = rng.choice([50.0, 60.0])
        return sum(np.sin(2 * np.pi * base * h * t + rng.uniform(0, 6)) / h for h in range(1, 8)) \
            + 0.05 * rng.standard_normal(n)
    if kind == "modulated":
        return coloured_noise(n, 1.0, rng) * (1 + 0.9 * np.sin(2 * np.pi * rng.uniform(0.5, 4) * t))
    raise ValueError(kind)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    p_clean = np.mean(clean ** 2)
    p_noise = np.mean(noise ** 2) + 1e-12
    return clean + noise * np.sqrt(p_clean / (p_noise * 10 ** (snr_db / 10)))


def generate(root: Path, splits: dict[str, int] | None = None, seed: int = 0,
             progress=None) -> dict:
    """Write the corpus under root; returns a manifest (also saved as manifest.json)."""
    import json

    import soundfile

    splits = splits or SPLITS
    root = Path(root)
    pool = sentences(seed)
    if sum(splits.values()) > len(pool):
        raise McuqError(f"at most {len(pool)} clips in all")
    rng = np.random.default_rng(seed)
    manifest = {"sample_rate": SAMPLE_RATE, "seed": seed, "splits": {}}
    offset = 0
    for split, count in splits.items():
        texts = pool[offset:offset + count]  # disjoint sentences per split
        offset += count
        clean_dir = root / f"clean_{split}set_wav"
        noisy_dir = root / f"noisy_{split}set_wav"
        clean_dir.mkdir(parents=True, exist_ok=True)
        noisy_dir.mkdir(parents=True, exist_ok=True)
        voices = [speak(text, VOICES[rng.integers(len(VOICES))], int(rng.integers(130, 190)),
                        int(rng.integers(30, 71))) for text in _progress(texts, progress, split)]
        entries = []
        for i, (text, clean) in enumerate(zip(texts, voices)):
            kind = NOISES[i % len(NOISES)]
            others = [v for j, v in enumerate(voices) if j != i]
            snr = float(rng.uniform(-5, 15))
            noisy = mix_at_snr(clean, make_noise(kind, clean.size, rng, others), snr)
            peak = max(np.max(np.abs(noisy)), np.max(np.abs(clean)))
            gain = 0.9 / peak if peak > 0.9 else 1.0
            name = f"{split}_{i:04d}.wav"
            soundfile.write(clean_dir / name, clean * gain, SAMPLE_RATE, subtype="PCM_16")
            soundfile.write(noisy_dir / name, noisy * gain, SAMPLE_RATE, subtype="PCM_16")
            entries.append({"file": name, "text": text, "noise": kind, "snr_db": round(snr, 2)})
        manifest["splits"][split] = entries
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _progress(items, progress, label):
    return progress(items, desc=label) if progress else items


def find_pairs(root: Path, split: str) -> list[tuple[Path, Path]]:
    """(noisy, clean) wav pairs of a split in the VoiceBank-DEMAND layout."""
    root = Path(root)
    noisy_dir, clean_dir = root / f"noisy_{split}set_wav", root / f"clean_{split}set_wav"
    for d in (noisy_dir, clean_dir):
        if not d.is_dir():
            raise McuqError(f"{d} not found: a data folder holds clean_<split>set_wav/ and "
                            "noisy_<split>set_wav/ (VoiceBank-DEMAND layout; make one with "
                            "`mcuq corpus`)")
    pairs = [(p, clean_dir / p.name) for p in sorted(noisy_dir.glob("*.wav"))
             if (clean_dir / p.name).is_file()]
    if not pairs:
        raise McuqError(f"no matching noisy/clean wav files in {noisy_dir} and {clean_dir}")
    return pairs


def load_clip(path: Path) -> np.ndarray:
    """A clip of the data set as mono 16 kHz float64 (VoiceBank-DEMAND is 48 kHz)."""
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    return resample(data.mean(axis=1), rate, SAMPLE_RATE)

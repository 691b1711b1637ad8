"""Audio in and out for speech enhancement by spectral masking.

The paper's front end: 16 kHz audio, STFT with n_fft 512 (257 bins), a 400-sample
periodic Hann window, hop 100 (6.25 ms); the model sees log(1 + |X|) per frame and
returns a mask in [0, 1] that scales the noisy spectrum; the inverse STFT is a
least-squares overlap-add (as torch.istft), so an all-ones mask returns the input.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.errors import McuqError

SAMPLE_RATE = 16000
N_FFT = 512
WIN_LENGTH = 400
HOP = 100
BINS = N_FFT // 2 + 1


def window() -> np.ndarray:
    """Periodic Hann of WIN_LENGTH, zero-padded to N_FFT, centred."""
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN_LENGTH) / WIN_LENGTH)
    left = (N_FFT - WIN_LENGTH) // 2
    return np.pad(w, (left, N_FFT - WIN_LENGTH - left))


def stft(signal: np.ndarray) -> np.ndarray:
    """(samples,) -> (frames, BINS) complex; frames centred on t * HOP."""
    x = np.pad(np.asarray(signal, np.float64), N_FFT // 2, mode="reflect")
    frames = 1 + (x.size - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    return np.fft.rfft(x[index] * window(), axis=1)


def istft(spectrum: np.ndarray, length: int) -> np.ndarray:
    """Least-squares inverse of stft: overlap-add of windowed frames / sum of window^2."""
    frames = np.fft.irfft(spectrum, n=N_FFT, axis=1) * window()
    total = N_FFT + HOP * (frames.shape[0] - 1)
    out = np.zeros(total)
    norm = np.zeros(total)
    w2 = window() ** 2
    for t in range(frames.shape[0]):
        out[t * HOP:t * HOP + N_FFT] += frames[t]
        norm[t * HOP:t * HOP + N_FFT] += w2
    out /= np.where(norm > 1e-10, norm, 1.0)
    start = N_FFT // 2
    return out[start:start + length]


def features(spectrum: np.ndarray) -> np.ndarray:
    """The model input: log(1 + |X|), float32 (frames, BINS)."""
    return np.log1p(np.abs(spectrum)).astype(np.float32)


def apply_mask(spectrum: np.ndarray, mask: np.ndarray, length: int) -> np.ndarray:
    return istft(spectrum * np.clip(mask, 0.0, 1.0), length)


def read_wav(path: str | Path) -> np.ndarray:
    """A mono 16 kHz wav (any subtype soundfile reads) as float64 samples."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise McuqError(f"audio file not found: {path}")
    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise McuqError(f"{path} is not a readable audio file ({exc})") from None
    if rate != SAMPLE_RATE:
        raise McuqError(f"{path} is sampled at {rate} Hz; mcuq's speech models take "
                        f"{SAMPLE_RATE} Hz (resample it, e.g. sox in.wav -r 16000 out.wav)")
    if data.shape[1] != 1:
        raise McuqError(f"{path} has {data.shape[1]} channels; mcuq takes mono audio "
                        "(e.g. sox in.wav -c 1 out.wav)")
    if data.shape[0] < N_FFT:
        raise McuqError(f"{path} is {'empty' if data.shape[0] == 0 else 'too short'} "
                        f"({data.shape[0]} samples; at least {N_FFT} needed)")
    if not np.all(np.isfinite(data)):
        raise McuqError(f"{path} has NaN or infinite samples (a float wav); fix the audio")
    return data[:, 0]


def write_wav(path: str | Path, samples: np.ndarray) -> None:
    """16-bit PCM at 16 kHz, written to a temporary file and renamed when complete."""
    import soundfile

    from mcuq.files import atomic_file

    with atomic_file(Path(path)) as tmp:
        soundfile.write(str(tmp), np.clip(samples, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16",
                        format="WAV")

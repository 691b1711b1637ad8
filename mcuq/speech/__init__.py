"""Speech enhancement on top of the mcuq core: audio (STFT features, masks, wav files),
a generated noisy-speech corpus, the example model family, and the `enhance`, `eval`
and `corpus` commands (mcuq.speech.commands). Nothing in the core imports this."""

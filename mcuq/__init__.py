"""mcuq: post-training quantization and C generation for multi-core RISC-V MCUs."""

__version__ = "0.1.0"

"""Byte arrays of the generated C are string literals (codegen.generate.c_initializer):
every byte value, at any length, reads back as the same bytes through a C compiler, and
no terminating zero is stored past the array."""
import subprocess

import numpy as np
import pytest

from codegen.generate import c_initializer


@pytest.mark.parametrize("dtype, size", [(np.int8, 256), (np.uint8, 64 * 3), (np.int8, 1001)])
def test_byte_arrays_compile_to_the_same_bytes(tmp_path, dtype, size):
    values = (np.arange(size) * 37 + 11).astype(np.uint8).view(dtype)  # every value of 256
    ctype = "int8_t" if dtype == np.int8 else "uint8_t"
    (tmp_path / "t.c").write_text(f"""#include <stdint.h>
#include <stdio.h>
const {ctype} w[{size}] =
{c_initializer(values)};
const uint8_t after[1] = {{0x5a}};
int main(void)
{{
    for (int i = 0; i < {size}; i++)
        printf("%02x", (unsigned)(uint8_t)w[i]);
    printf(" %zu\\n", sizeof w);
    return 0;
}}
""")
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-o", str(tmp_path / "t"),
                    str(tmp_path / "t.c")], check=True, capture_output=True)
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, check=True).stdout
    hex_bytes, length = out.split()
    assert bytes.fromhex(hex_bytes) == values.view(np.uint8).tobytes()
    assert int(length) == size


def test_other_types_stay_lists_of_numbers():
    assert c_initializer(np.array([1, -2], np.int32)) == "{\n    1, -2\n}"

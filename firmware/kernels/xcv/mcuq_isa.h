/* Inner-loop primitives of the int8 kernels for cores with 4-way int8 SIMD dot products:
 * CORE-V XCV (OpenHW CV32E40P) and GAP9's Xpulpv2 (RI5CY). The kernels are rv32's
 * (firmware/kernels/rv32/, copied beside this header into the export), built against this
 * header instead of rv32's: the same kernel source, another dot product.
 *
 * Weight layout (mcuq/layouts.py, "xcv"): a block of G rows (G = 4 output channels of a
 * Linear or convolution, or the 3 or 4 gates of a recurrent unit) is stored as
 * ceil(k / 4) chunks of G words, word g of chunk c holding row g's weights 4c .. 4c + 3,
 * the rows padded with zeros to whole words. One 4-byte load of the input then feeds G
 * `sdotsp.b` (acc += four int8 x int8 products), and the weight words come in the order
 * they are used, so every load is a post-increment load from one pointer.
 *
 * Three builds of the same primitives, all exact int32 sums (the order of integer
 * additions cannot change a result, so SIMD changes nothing the simulator computes):
 *   - clang-19 with the XCV extensions (__riscv_xcvsimd): inline assembly in hardware
 *     loops (LLVM 19 has no SIMD builtins and no hardware loops of its own); the
 *     mcuq --target rtl build, run on the CV32E40P RTL.
 *   - MCUQ_PULP_BUILTINS (GAP SDK, PULP GCC, Xpulpv2 encodings): C with
 *     __builtin_pulp_sdotsp4, from which that compiler makes the post-increment loads and
 *     hardware loops itself. Needs the GAP SDK, which this project cannot install: it is
 *     compiled by GAP users, not here.
 *   - anything else (the host, or QEMU's RV32 without XCV): the same C with a portable
 *     4-way dot product, so an xcv export also runs and verifies there.
 * Input vectors need no alignment (both cores load misaligned words in hardware) and are
 * never read past their last element: the k % 4 tail is one word built byte by byte and
 * zero-padded (mcuq_tail_word_s8), so it goes through the same dot product.
 */
#ifndef MCUQ_ISA_H
#define MCUQ_ISA_H

#include <stdint.h>
#include <string.h>

#include "dot_f16.h"
#include "mcuq_fixedpoint.h"

#define MCUQ_ISA_XCV 1

/* int8 weights per row in the layout: k padded to whole words */
#define MCUQ_ROW_S8(k) (((k) + 3) & ~3)

#define MCUQ_ALWAYS_INLINE static inline __attribute__((always_inline))

/* The k % 4 (1 to 3) inputs after the last whole word, as one word with zeros in the
 * missing bytes: its dot product with a row's last word (zero-padded by the layout) is
 * the sum of the remaining products. Built byte by byte: the input is never read past
 * its last element. */
MCUQ_ALWAYS_INLINE int32_t mcuq_tail_word_s8(const int8_t *x, int32_t rem)
{
    uint32_t v = (uint8_t)x[0];
    if (rem > 1)
        v |= (uint32_t)(uint8_t)x[1] << 8;
    if (rem > 2)
        v |= (uint32_t)(uint8_t)x[2] << 16;
    return (int32_t)v;
}

/* the word of int8 weights at w (4-byte aligned: rows are padded to whole words) */
MCUQ_ALWAYS_INLINE int32_t mcuq_weight_word_s8(const int8_t *w)
{
    int32_t v;
    __builtin_memcpy(&v, __builtin_assume_aligned(w, 4), 4);
    return v;
}

/* acc + the dot product of two words of four int8, in each build */
#if defined(__riscv_xcvsimd) && defined(__riscv_xcvmem) && defined(__riscv_xcvbi)
#define MCUQ_XCV_LOOPS 1
MCUQ_ALWAYS_INLINE int32_t mcuq_sdot4_s8(int32_t acc, int32_t w, int32_t x)
{
    __asm__("cv.sdotsp.b %0, %1, %2" : "+r"(acc) : "r"(w), "r"(x));
    return acc;
}
#elif defined(MCUQ_PULP_BUILTINS)
typedef signed char mcuq_v4s __attribute__((vector_size(4)));
/* GAP9 / RI5CY (Xpulpv2): p.sdotsp.b */
MCUQ_ALWAYS_INLINE int32_t mcuq_sdot4_s8(int32_t acc, int32_t w, int32_t x)
{
    mcuq_v4s wv, xv;
    __builtin_memcpy(&wv, &w, 4);
    __builtin_memcpy(&xv, &x, 4);
    return __builtin_pulp_sdotsp4(wv, xv, acc);
}
#else
MCUQ_ALWAYS_INLINE int32_t mcuq_sdot4_s8(int32_t acc, int32_t w, int32_t x)
{
    int8_t a[4], b[4];
    __builtin_memcpy(a, &w, 4);
    __builtin_memcpy(b, &x, 4);
    return acc + a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
}
#endif

/* The tail of a block of G rows after its whole words: acc[g] += row g's products with
 * the k % 4 remaining inputs, one SIMD dot product per row with xv, the remaining inputs
 * as a zero-padded word (w: the block's last chunk). */
MCUQ_ALWAYS_INLINE void mcuq_block_tail_s8(const int8_t *w, int32_t G, int32_t xv,
                                           int32_t *acc)
{
    for (int32_t g = 0; g < G; g++)
        acc[g] = mcuq_sdot4_s8(acc[g], mcuq_weight_word_s8(w + 4 * g), xv);
}

/* The three taps of a 3x3 window row, for the int8 depthwise kernel: one word, the taps
 * in bytes 0 to 2 and a zero in byte 3, so one SIMD dot product with the word of inputs
 * at the row's first tap gives the row's three products (its fourth input meets 0). */
typedef int32_t mcuq_taps3_t;

/* taps w[0], w[stride], w[2 stride] */
MCUQ_ALWAYS_INLINE mcuq_taps3_t mcuq_taps3_s8(const int8_t *w, int32_t stride)
{
    return (int32_t)((uint32_t)(uint8_t)w[0] | (uint32_t)(uint8_t)w[stride] << 8
                     | (uint32_t)(uint8_t)w[2 * stride] << 16);
}

/* a window row's taps as the plane kernel's layout holds them (mcuq/layouts.py
 * taps_rows: a word, its fourth byte 0): one load */
MCUQ_ALWAYS_INLINE mcuq_taps3_t mcuq_taps3_row_s8(const int8_t *w)
{
    return mcuq_weight_word_s8(w);
}

#if defined(MCUQ_XCV_LOOPS)

/* --- XCV: hardware loops of post-increment loads and sdotsp.b ------------------------- */

#define MCUQ_STR_(x) #x
#define MCUQ_STR(x) MCUQ_STR_(x)
#define MCUQ_NARG(...) MCUQ_NARG_(__VA_ARGS__, 160, 159, 158, 157, 156, 155, 154, 153, \
    152, 151, 150, 149, 148, 147, 146, 145, 144, 143, 142, 141, 140, 139, 138, 137, \
    136, 135, 134, 133, 132, 131, 130, 129, 128, 127, 126, 125, 124, 123, 122, 121, \
    120, 119, 118, 117, 116, 115, 114, 113, 112, 111, 110, 109, 108, 107, 106, 105, \
    104, 103, 102, 101, 100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88, 87, 86, \
    85, 84, 83, 82, 81, 80, 79, 78, 77, 76, 75, 74, 73, 72, 71, 70, 69, 68, 67, 66, \
    65, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, \
    45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, \
    25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, \
    3, 2, 1, 0)
#define MCUQ_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, \
    _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, \
    _32, _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47, \
    _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62, _63, \
    _64, _65, _66, _67, _68, _69, _70, _71, _72, _73, _74, _75, _76, _77, _78, _79, \
    _80, _81, _82, _83, _84, _85, _86, _87, _88, _89, _90, _91, _92, _93, _94, _95, \
    _96, _97, _98, _99, _100, _101, _102, _103, _104, _105, _106, _107, _108, _109, \
    _110, _111, _112, _113, _114, _115, _116, _117, _118, _119, _120, _121, _122, \
    _123, _124, _125, _126, _127, _128, _129, _130, _131, _132, _133, _134, _135, \
    _136, _137, _138, _139, _140, _141, _142, _143, _144, _145, _146, _147, _148, \
    _149, _150, _151, _152, _153, _154, _155, _156, _157, _158, _159, _160, N, ...) N
#define MCUQ_CAT_(a, b) a##b
#define MCUQ_CAT(a, b) MCUQ_CAT_(a, b)
/* the instruction strings of a body, one per argument, joined */
#define MCUQ_JOIN(...) MCUQ_CAT(MCUQ_JOIN_, MCUQ_NARG(__VA_ARGS__))(__VA_ARGS__)
#define MCUQ_JOIN_1(a) a
#define MCUQ_JOIN_2(a, ...) a MCUQ_JOIN_1(__VA_ARGS__)
#define MCUQ_JOIN_3(a, ...) a MCUQ_JOIN_2(__VA_ARGS__)
#define MCUQ_JOIN_4(a, ...) a MCUQ_JOIN_3(__VA_ARGS__)
#define MCUQ_JOIN_5(a, ...) a MCUQ_JOIN_4(__VA_ARGS__)
#define MCUQ_JOIN_6(a, ...) a MCUQ_JOIN_5(__VA_ARGS__)
#define MCUQ_JOIN_7(a, ...) a MCUQ_JOIN_6(__VA_ARGS__)
#define MCUQ_JOIN_8(a, ...) a MCUQ_JOIN_7(__VA_ARGS__)
#define MCUQ_JOIN_9(a, ...) a MCUQ_JOIN_8(__VA_ARGS__)
#define MCUQ_JOIN_10(a, ...) a MCUQ_JOIN_9(__VA_ARGS__)
#define MCUQ_JOIN_11(a, ...) a MCUQ_JOIN_10(__VA_ARGS__)
#define MCUQ_JOIN_12(a, ...) a MCUQ_JOIN_11(__VA_ARGS__)
#define MCUQ_JOIN_13(a, ...) a MCUQ_JOIN_12(__VA_ARGS__)
#define MCUQ_JOIN_14(a, ...) a MCUQ_JOIN_13(__VA_ARGS__)
#define MCUQ_JOIN_15(a, ...) a MCUQ_JOIN_14(__VA_ARGS__)
#define MCUQ_JOIN_16(a, ...) a MCUQ_JOIN_15(__VA_ARGS__)
#define MCUQ_JOIN_17(a, ...) a MCUQ_JOIN_16(__VA_ARGS__)
#define MCUQ_JOIN_18(a, ...) a MCUQ_JOIN_17(__VA_ARGS__)
#define MCUQ_JOIN_19(a, ...) a MCUQ_JOIN_18(__VA_ARGS__)
#define MCUQ_JOIN_20(a, ...) a MCUQ_JOIN_19(__VA_ARGS__)
#define MCUQ_JOIN_21(a, ...) a MCUQ_JOIN_20(__VA_ARGS__)
#define MCUQ_JOIN_22(a, ...) a MCUQ_JOIN_21(__VA_ARGS__)
#define MCUQ_JOIN_23(a, ...) a MCUQ_JOIN_22(__VA_ARGS__)
#define MCUQ_JOIN_24(a, ...) a MCUQ_JOIN_23(__VA_ARGS__)
#define MCUQ_JOIN_25(a, ...) a MCUQ_JOIN_24(__VA_ARGS__)
#define MCUQ_JOIN_26(a, ...) a MCUQ_JOIN_25(__VA_ARGS__)
#define MCUQ_JOIN_27(a, ...) a MCUQ_JOIN_26(__VA_ARGS__)
#define MCUQ_JOIN_28(a, ...) a MCUQ_JOIN_27(__VA_ARGS__)
#define MCUQ_JOIN_29(a, ...) a MCUQ_JOIN_28(__VA_ARGS__)
#define MCUQ_JOIN_30(a, ...) a MCUQ_JOIN_29(__VA_ARGS__)
#define MCUQ_JOIN_31(a, ...) a MCUQ_JOIN_30(__VA_ARGS__)
#define MCUQ_JOIN_32(a, ...) a MCUQ_JOIN_31(__VA_ARGS__)
#define MCUQ_JOIN_33(a, ...) a MCUQ_JOIN_32(__VA_ARGS__)
#define MCUQ_JOIN_34(a, ...) a MCUQ_JOIN_33(__VA_ARGS__)
#define MCUQ_JOIN_35(a, ...) a MCUQ_JOIN_34(__VA_ARGS__)
#define MCUQ_JOIN_36(a, ...) a MCUQ_JOIN_35(__VA_ARGS__)
#define MCUQ_JOIN_37(a, ...) a MCUQ_JOIN_36(__VA_ARGS__)
#define MCUQ_JOIN_38(a, ...) a MCUQ_JOIN_37(__VA_ARGS__)
#define MCUQ_JOIN_39(a, ...) a MCUQ_JOIN_38(__VA_ARGS__)
#define MCUQ_JOIN_40(a, ...) a MCUQ_JOIN_39(__VA_ARGS__)
#define MCUQ_JOIN_41(a, ...) a MCUQ_JOIN_40(__VA_ARGS__)
#define MCUQ_JOIN_42(a, ...) a MCUQ_JOIN_41(__VA_ARGS__)
#define MCUQ_JOIN_43(a, ...) a MCUQ_JOIN_42(__VA_ARGS__)
#define MCUQ_JOIN_44(a, ...) a MCUQ_JOIN_43(__VA_ARGS__)
#define MCUQ_JOIN_45(a, ...) a MCUQ_JOIN_44(__VA_ARGS__)
#define MCUQ_JOIN_46(a, ...) a MCUQ_JOIN_45(__VA_ARGS__)
#define MCUQ_JOIN_47(a, ...) a MCUQ_JOIN_46(__VA_ARGS__)
#define MCUQ_JOIN_48(a, ...) a MCUQ_JOIN_47(__VA_ARGS__)
#define MCUQ_JOIN_49(a, ...) a MCUQ_JOIN_48(__VA_ARGS__)
#define MCUQ_JOIN_50(a, ...) a MCUQ_JOIN_49(__VA_ARGS__)
#define MCUQ_JOIN_51(a, ...) a MCUQ_JOIN_50(__VA_ARGS__)
#define MCUQ_JOIN_52(a, ...) a MCUQ_JOIN_51(__VA_ARGS__)
#define MCUQ_JOIN_53(a, ...) a MCUQ_JOIN_52(__VA_ARGS__)
#define MCUQ_JOIN_54(a, ...) a MCUQ_JOIN_53(__VA_ARGS__)
#define MCUQ_JOIN_55(a, ...) a MCUQ_JOIN_54(__VA_ARGS__)
#define MCUQ_JOIN_56(a, ...) a MCUQ_JOIN_55(__VA_ARGS__)
#define MCUQ_JOIN_57(a, ...) a MCUQ_JOIN_56(__VA_ARGS__)
#define MCUQ_JOIN_58(a, ...) a MCUQ_JOIN_57(__VA_ARGS__)
#define MCUQ_JOIN_59(a, ...) a MCUQ_JOIN_58(__VA_ARGS__)
#define MCUQ_JOIN_60(a, ...) a MCUQ_JOIN_59(__VA_ARGS__)
#define MCUQ_JOIN_61(a, ...) a MCUQ_JOIN_60(__VA_ARGS__)
#define MCUQ_JOIN_62(a, ...) a MCUQ_JOIN_61(__VA_ARGS__)
#define MCUQ_JOIN_63(a, ...) a MCUQ_JOIN_62(__VA_ARGS__)
#define MCUQ_JOIN_64(a, ...) a MCUQ_JOIN_63(__VA_ARGS__)
#define MCUQ_JOIN_65(a, ...) a MCUQ_JOIN_64(__VA_ARGS__)
#define MCUQ_JOIN_66(a, ...) a MCUQ_JOIN_65(__VA_ARGS__)
#define MCUQ_JOIN_67(a, ...) a MCUQ_JOIN_66(__VA_ARGS__)
#define MCUQ_JOIN_68(a, ...) a MCUQ_JOIN_67(__VA_ARGS__)
#define MCUQ_JOIN_69(a, ...) a MCUQ_JOIN_68(__VA_ARGS__)
#define MCUQ_JOIN_70(a, ...) a MCUQ_JOIN_69(__VA_ARGS__)
#define MCUQ_JOIN_71(a, ...) a MCUQ_JOIN_70(__VA_ARGS__)
#define MCUQ_JOIN_72(a, ...) a MCUQ_JOIN_71(__VA_ARGS__)
#define MCUQ_JOIN_73(a, ...) a MCUQ_JOIN_72(__VA_ARGS__)
#define MCUQ_JOIN_74(a, ...) a MCUQ_JOIN_73(__VA_ARGS__)
#define MCUQ_JOIN_75(a, ...) a MCUQ_JOIN_74(__VA_ARGS__)
#define MCUQ_JOIN_76(a, ...) a MCUQ_JOIN_75(__VA_ARGS__)
#define MCUQ_JOIN_77(a, ...) a MCUQ_JOIN_76(__VA_ARGS__)
#define MCUQ_JOIN_78(a, ...) a MCUQ_JOIN_77(__VA_ARGS__)
#define MCUQ_JOIN_79(a, ...) a MCUQ_JOIN_78(__VA_ARGS__)
#define MCUQ_JOIN_80(a, ...) a MCUQ_JOIN_79(__VA_ARGS__)
#define MCUQ_JOIN_81(a, ...) a MCUQ_JOIN_80(__VA_ARGS__)
#define MCUQ_JOIN_82(a, ...) a MCUQ_JOIN_81(__VA_ARGS__)
#define MCUQ_JOIN_83(a, ...) a MCUQ_JOIN_82(__VA_ARGS__)
#define MCUQ_JOIN_84(a, ...) a MCUQ_JOIN_83(__VA_ARGS__)
#define MCUQ_JOIN_85(a, ...) a MCUQ_JOIN_84(__VA_ARGS__)
#define MCUQ_JOIN_86(a, ...) a MCUQ_JOIN_85(__VA_ARGS__)
#define MCUQ_JOIN_87(a, ...) a MCUQ_JOIN_86(__VA_ARGS__)
#define MCUQ_JOIN_88(a, ...) a MCUQ_JOIN_87(__VA_ARGS__)
#define MCUQ_JOIN_89(a, ...) a MCUQ_JOIN_88(__VA_ARGS__)
#define MCUQ_JOIN_90(a, ...) a MCUQ_JOIN_89(__VA_ARGS__)
#define MCUQ_JOIN_91(a, ...) a MCUQ_JOIN_90(__VA_ARGS__)
#define MCUQ_JOIN_92(a, ...) a MCUQ_JOIN_91(__VA_ARGS__)
#define MCUQ_JOIN_93(a, ...) a MCUQ_JOIN_92(__VA_ARGS__)
#define MCUQ_JOIN_94(a, ...) a MCUQ_JOIN_93(__VA_ARGS__)
#define MCUQ_JOIN_95(a, ...) a MCUQ_JOIN_94(__VA_ARGS__)
#define MCUQ_JOIN_96(a, ...) a MCUQ_JOIN_95(__VA_ARGS__)
#define MCUQ_JOIN_97(a, ...) a MCUQ_JOIN_96(__VA_ARGS__)
#define MCUQ_JOIN_98(a, ...) a MCUQ_JOIN_97(__VA_ARGS__)
#define MCUQ_JOIN_99(a, ...) a MCUQ_JOIN_98(__VA_ARGS__)
#define MCUQ_JOIN_100(a, ...) a MCUQ_JOIN_99(__VA_ARGS__)
#define MCUQ_JOIN_101(a, ...) a MCUQ_JOIN_100(__VA_ARGS__)
#define MCUQ_JOIN_102(a, ...) a MCUQ_JOIN_101(__VA_ARGS__)
#define MCUQ_JOIN_103(a, ...) a MCUQ_JOIN_102(__VA_ARGS__)
#define MCUQ_JOIN_104(a, ...) a MCUQ_JOIN_103(__VA_ARGS__)
#define MCUQ_JOIN_105(a, ...) a MCUQ_JOIN_104(__VA_ARGS__)
#define MCUQ_JOIN_106(a, ...) a MCUQ_JOIN_105(__VA_ARGS__)
#define MCUQ_JOIN_107(a, ...) a MCUQ_JOIN_106(__VA_ARGS__)
#define MCUQ_JOIN_108(a, ...) a MCUQ_JOIN_107(__VA_ARGS__)
#define MCUQ_JOIN_109(a, ...) a MCUQ_JOIN_108(__VA_ARGS__)
#define MCUQ_JOIN_110(a, ...) a MCUQ_JOIN_109(__VA_ARGS__)
#define MCUQ_JOIN_111(a, ...) a MCUQ_JOIN_110(__VA_ARGS__)
#define MCUQ_JOIN_112(a, ...) a MCUQ_JOIN_111(__VA_ARGS__)
#define MCUQ_JOIN_113(a, ...) a MCUQ_JOIN_112(__VA_ARGS__)
#define MCUQ_JOIN_114(a, ...) a MCUQ_JOIN_113(__VA_ARGS__)
#define MCUQ_JOIN_115(a, ...) a MCUQ_JOIN_114(__VA_ARGS__)
#define MCUQ_JOIN_116(a, ...) a MCUQ_JOIN_115(__VA_ARGS__)
#define MCUQ_JOIN_117(a, ...) a MCUQ_JOIN_116(__VA_ARGS__)
#define MCUQ_JOIN_118(a, ...) a MCUQ_JOIN_117(__VA_ARGS__)
#define MCUQ_JOIN_119(a, ...) a MCUQ_JOIN_118(__VA_ARGS__)
#define MCUQ_JOIN_120(a, ...) a MCUQ_JOIN_119(__VA_ARGS__)
#define MCUQ_JOIN_121(a, ...) a MCUQ_JOIN_120(__VA_ARGS__)
#define MCUQ_JOIN_122(a, ...) a MCUQ_JOIN_121(__VA_ARGS__)
#define MCUQ_JOIN_123(a, ...) a MCUQ_JOIN_122(__VA_ARGS__)
#define MCUQ_JOIN_124(a, ...) a MCUQ_JOIN_123(__VA_ARGS__)
#define MCUQ_JOIN_125(a, ...) a MCUQ_JOIN_124(__VA_ARGS__)
#define MCUQ_JOIN_126(a, ...) a MCUQ_JOIN_125(__VA_ARGS__)
#define MCUQ_JOIN_127(a, ...) a MCUQ_JOIN_126(__VA_ARGS__)
#define MCUQ_JOIN_128(a, ...) a MCUQ_JOIN_127(__VA_ARGS__)
#define MCUQ_JOIN_129(a, ...) a MCUQ_JOIN_128(__VA_ARGS__)
#define MCUQ_JOIN_130(a, ...) a MCUQ_JOIN_129(__VA_ARGS__)
#define MCUQ_JOIN_131(a, ...) a MCUQ_JOIN_130(__VA_ARGS__)
#define MCUQ_JOIN_132(a, ...) a MCUQ_JOIN_131(__VA_ARGS__)
#define MCUQ_JOIN_133(a, ...) a MCUQ_JOIN_132(__VA_ARGS__)
#define MCUQ_JOIN_134(a, ...) a MCUQ_JOIN_133(__VA_ARGS__)
#define MCUQ_JOIN_135(a, ...) a MCUQ_JOIN_134(__VA_ARGS__)
#define MCUQ_JOIN_136(a, ...) a MCUQ_JOIN_135(__VA_ARGS__)
#define MCUQ_JOIN_137(a, ...) a MCUQ_JOIN_136(__VA_ARGS__)
#define MCUQ_JOIN_138(a, ...) a MCUQ_JOIN_137(__VA_ARGS__)
#define MCUQ_JOIN_139(a, ...) a MCUQ_JOIN_138(__VA_ARGS__)
#define MCUQ_JOIN_140(a, ...) a MCUQ_JOIN_139(__VA_ARGS__)
#define MCUQ_JOIN_141(a, ...) a MCUQ_JOIN_140(__VA_ARGS__)
#define MCUQ_JOIN_142(a, ...) a MCUQ_JOIN_141(__VA_ARGS__)
#define MCUQ_JOIN_143(a, ...) a MCUQ_JOIN_142(__VA_ARGS__)
#define MCUQ_JOIN_144(a, ...) a MCUQ_JOIN_143(__VA_ARGS__)
#define MCUQ_JOIN_145(a, ...) a MCUQ_JOIN_144(__VA_ARGS__)
#define MCUQ_JOIN_146(a, ...) a MCUQ_JOIN_145(__VA_ARGS__)
#define MCUQ_JOIN_147(a, ...) a MCUQ_JOIN_146(__VA_ARGS__)
#define MCUQ_JOIN_148(a, ...) a MCUQ_JOIN_147(__VA_ARGS__)
#define MCUQ_JOIN_149(a, ...) a MCUQ_JOIN_148(__VA_ARGS__)
#define MCUQ_JOIN_150(a, ...) a MCUQ_JOIN_149(__VA_ARGS__)
#define MCUQ_JOIN_151(a, ...) a MCUQ_JOIN_150(__VA_ARGS__)
#define MCUQ_JOIN_152(a, ...) a MCUQ_JOIN_151(__VA_ARGS__)
#define MCUQ_JOIN_153(a, ...) a MCUQ_JOIN_152(__VA_ARGS__)
#define MCUQ_JOIN_154(a, ...) a MCUQ_JOIN_153(__VA_ARGS__)
#define MCUQ_JOIN_155(a, ...) a MCUQ_JOIN_154(__VA_ARGS__)
#define MCUQ_JOIN_156(a, ...) a MCUQ_JOIN_155(__VA_ARGS__)
#define MCUQ_JOIN_157(a, ...) a MCUQ_JOIN_156(__VA_ARGS__)
#define MCUQ_JOIN_158(a, ...) a MCUQ_JOIN_157(__VA_ARGS__)
#define MCUQ_JOIN_159(a, ...) a MCUQ_JOIN_158(__VA_ARGS__)
#define MCUQ_JOIN_160(a, ...) a MCUQ_JOIN_159(__VA_ARGS__)

/* A hardware loop (level 0) of `count` iterations over the body, one instruction per
 * argument. cv.setup takes the body's end as an offset in instructions, which is counted
 * here from the arguments, never written by hand; and the assembler measures the body
 * between two labels and refuses to build if an argument held more or less than one
 * 4-byte instruction. (A wrong length would run silently with wrong results.)
 * cv.setup has no mnemonic in LLVM 19 or binutils 2.40, hence .insn (CORE-V v2
 * encoding: opcode 0x2B, funct3 4, rd field 0b01110 for loop 0). The body is
 * uncompressed (norvc) and word-aligned, and holds no branch. */
#define MCUQ_HWLOOP0(count, ...)                                                         \
    ".balign 4\n.option push\n.option norvc\n"                                           \
    ".insn i 0x2B, 4, x14, " count ", " MCUQ_STR(MCUQ_NARG(__VA_ARGS__)) " + 1\n"        \
    "771:\n" MCUQ_JOIN(__VA_ARGS__) "772:\n"                                             \
    ".if (772b - 771b) != 4 * " MCUQ_STR(MCUQ_NARG(__VA_ARGS__)) "\n"                    \
    ".error \"mcuq: hardware loop body is not one instruction per argument\"\n"          \
    ".endif\n.option pop\n"

/* The outer loop (level 1) of two nested hardware loops, over the body as above. The
 * inner loop is set up inside the body by MCUQ_INNER0; the
 * core needs at least one instruction of the outer body after the inner loop's last. */
#define MCUQ_HWLOOP1(count, ...)                                                         \
    ".balign 4\n.option push\n.option norvc\n"                                           \
    ".insn i 0x2B, 4, x15, " count ", " MCUQ_STR(MCUQ_NARG(__VA_ARGS__)) " + 1\n"        \
    "773:\n" MCUQ_JOIN(__VA_ARGS__) "774:\n"                                             \
    ".if (774b - 773b) != 4 * " MCUQ_STR(MCUQ_NARG(__VA_ARGS__)) "\n"                    \
    ".error \"mcuq: hardware loop body is not one instruction per argument\"\n"          \
    ".endif\n.option pop\n"
#define MCUQ_SETUP0_N(count, n) ".insn i 0x2B, 4, x14, " count ", " MCUQ_STR(n) " + 1\n"
/* inside a MCUQ_HWLOOP1 body: an inner loop (level 0) of `count` iterations over the
 * instructions that follow as arguments, its length counted from them */
#define MCUQ_INNER0(count, ...) MCUQ_SETUP0_N(count, MCUQ_NARG(__VA_ARGS__)), __VA_ARGS__

#define MCUQ_LW(rd, ptr, step) "cv.lw " rd ", (" ptr "), " step "\n"
#define MCUQ_SDOT(acc, a, b) "cv.sdotsp.b " acc ", " a ", " b "\n"

/* acc[g] += sum_k w_g[k] x[k] over one block of 4 rows: per word of x, 1 + 4 loads and
 * 4 dot products (16 MACs in 9 instructions); each load is used two instructions later,
 * so no load-use stall. The sums start from the caller's acc (a bias, or 0). */
MCUQ_ALWAYS_INLINE void mcuq_dot4i_s8(const int8_t *restrict w, const int8_t *restrict x,
                                      int32_t n, int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], xv, wa, wb;
    const int32_t words = n >> 2;
    if (words)
        __asm__ volatile(MCUQ_HWLOOP0("%[words]",
                                      MCUQ_LW("%[xv]", "%[x]", "4"),
                                      MCUQ_LW("%[wa]", "%[w]", "4"),
                                      MCUQ_LW("%[wb]", "%[w]", "4"),
                                      MCUQ_SDOT("%[a0]", "%[wa]", "%[xv]"),
                                      MCUQ_LW("%[wa]", "%[w]", "4"),
                                      MCUQ_SDOT("%[a1]", "%[wb]", "%[xv]"),
                                      MCUQ_LW("%[wb]", "%[w]", "4"),
                                      MCUQ_SDOT("%[a2]", "%[wa]", "%[xv]"),
                                      MCUQ_SDOT("%[a3]", "%[wb]", "%[xv]"))
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                           [w] "+r"(w), [x] "+r"(x), [xv] "=&r"(xv), [wa] "=&r"(wa),
                           [wb] "=&r"(wb)
                         : [words] "r"(words)
                         : "memory");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    if (n & 3)
        mcuq_block_tail_s8(w, 4, mcuq_tail_word_s8(x, n & 3), acc);
}

/* the same for 3 rows (a GRU unit's gates): 12 MACs in 7 instructions */
MCUQ_ALWAYS_INLINE void mcuq_dot3i_s8(const int8_t *restrict w, const int8_t *restrict x,
                                      int32_t n, int32_t acc[3])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], xv, wa, wb, wc;
    const int32_t words = n >> 2;
    if (words)
        __asm__ volatile(MCUQ_HWLOOP0("%[words]",
                                      MCUQ_LW("%[xv]", "%[x]", "4"),
                                      MCUQ_LW("%[wa]", "%[w]", "4"),
                                      MCUQ_LW("%[wb]", "%[w]", "4"),
                                      MCUQ_LW("%[wc]", "%[w]", "4"),
                                      MCUQ_SDOT("%[a0]", "%[wa]", "%[xv]"),
                                      MCUQ_SDOT("%[a1]", "%[wb]", "%[xv]"),
                                      MCUQ_SDOT("%[a2]", "%[wc]", "%[xv]"))
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [w] "+r"(w),
                           [x] "+r"(x), [xv] "=&r"(xv), [wa] "=&r"(wa), [wb] "=&r"(wb),
                           [wc] "=&r"(wc)
                         : [words] "r"(words)
                         : "memory");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    if (n & 3)
        mcuq_block_tail_s8(w, 3, mcuq_tail_word_s8(x, n & 3), acc);
}

/* two blocks of 4 rows at once: one input word feeds 8 dot products (32 MACs in 17
 * instructions) */
MCUQ_ALWAYS_INLINE void mcuq_dot4i2_s8(const int8_t *restrict w0, const int8_t *restrict w1,
                                       const int8_t *restrict x, int32_t n, int32_t acc0[4],
                                       int32_t acc1[4])
{
    int32_t a0 = acc0[0], a1 = acc0[1], a2 = acc0[2], a3 = acc0[3];
    int32_t b0 = acc1[0], b1 = acc1[1], b2 = acc1[2], b3 = acc1[3], xv, wa, wb;
    const int32_t words = n >> 2;
    if (words)
        __asm__ volatile(MCUQ_HWLOOP0("%[words]",
                                      MCUQ_LW("%[xv]", "%[x]", "4"),
                                      MCUQ_LW("%[wa]", "%[w0]", "4"),
                                      MCUQ_LW("%[wb]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a0]", "%[wa]", "%[xv]"),
                                      MCUQ_LW("%[wa]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a1]", "%[wb]", "%[xv]"),
                                      MCUQ_LW("%[wb]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a2]", "%[wa]", "%[xv]"),
                                      MCUQ_LW("%[wa]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[a3]", "%[wb]", "%[xv]"),
                                      MCUQ_LW("%[wb]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[b0]", "%[wa]", "%[xv]"),
                                      MCUQ_LW("%[wa]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[b1]", "%[wb]", "%[xv]"),
                                      MCUQ_LW("%[wb]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[b2]", "%[wa]", "%[xv]"),
                                      MCUQ_SDOT("%[b3]", "%[wb]", "%[xv]"))
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                           [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3),
                           [w0] "+r"(w0), [w1] "+r"(w1), [x] "+r"(x), [xv] "=&r"(xv),
                           [wa] "=&r"(wa), [wb] "=&r"(wb)
                         : [words] "r"(words)
                         : "memory");
    acc0[0] = a0;
    acc0[1] = a1;
    acc0[2] = a2;
    acc0[3] = a3;
    acc1[0] = b0;
    acc1[1] = b1;
    acc1[2] = b2;
    acc1[3] = b3;
    if (n & 3) {
        const int32_t xt = mcuq_tail_word_s8(x, n & 3);
        mcuq_block_tail_s8(w0, 4, xt, acc0);
        mcuq_block_tail_s8(w1, 4, xt, acc1);
    }
}

/* two blocks of 3 rows (two GRU units): 24 MACs in 13 instructions */
MCUQ_ALWAYS_INLINE void mcuq_dot3i2_s8(const int8_t *restrict w0, const int8_t *restrict w1,
                                       const int8_t *restrict x, int32_t n, int32_t acc0[3],
                                       int32_t acc1[3])
{
    int32_t a0 = acc0[0], a1 = acc0[1], a2 = acc0[2];
    int32_t b0 = acc1[0], b1 = acc1[1], b2 = acc1[2], xv, wa, wb;
    const int32_t words = n >> 2;
    if (words)
        __asm__ volatile(MCUQ_HWLOOP0("%[words]",
                                      MCUQ_LW("%[xv]", "%[x]", "4"),
                                      MCUQ_LW("%[wa]", "%[w0]", "4"),
                                      MCUQ_LW("%[wb]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a0]", "%[wa]", "%[xv]"),
                                      MCUQ_LW("%[wa]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a1]", "%[wb]", "%[xv]"),
                                      MCUQ_LW("%[wb]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[a2]", "%[wa]", "%[xv]"),
                                      MCUQ_LW("%[wa]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[b0]", "%[wb]", "%[xv]"),
                                      MCUQ_LW("%[wb]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[b1]", "%[wa]", "%[xv]"),
                                      MCUQ_SDOT("%[b2]", "%[wb]", "%[xv]"))
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [b0] "+r"(b0),
                           [b1] "+r"(b1), [b2] "+r"(b2), [w0] "+r"(w0), [w1] "+r"(w1),
                           [x] "+r"(x), [xv] "=&r"(xv), [wa] "=&r"(wa), [wb] "=&r"(wb)
                         : [words] "r"(words)
                         : "memory");
    acc0[0] = a0;
    acc0[1] = a1;
    acc0[2] = a2;
    acc1[0] = b0;
    acc1[1] = b1;
    acc1[2] = b2;
    if (n & 3) {
        const int32_t xt = mcuq_tail_word_s8(x, n & 3);
        mcuq_block_tail_s8(w0, 3, xt, acc0);
        mcuq_block_tail_s8(w1, 3, xt, acc1);
    }
}

/* one row of a block of G rows: its words are 4 G bytes apart (register post-increment) */
MCUQ_ALWAYS_INLINE int32_t mcuq_dot_row_s8(const int8_t *restrict w, int32_t G, int32_t row,
                                           const int8_t *restrict x, int32_t n)
{
    int32_t acc = 0, xv, wv;
    const int32_t words = n >> 2, stride = 4 * G;
    w += 4 * row;
    if (words)
        __asm__ volatile(MCUQ_HWLOOP0("%[words]",
                                      MCUQ_LW("%[xv]", "%[x]", "4"),
                                      MCUQ_LW("%[wv]", "%[w]", "%[stride]"),
                                      MCUQ_SDOT("%[acc]", "%[wv]", "%[xv]"))
                         : [acc] "+r"(acc), [w] "+r"(w), [x] "+r"(x), [xv] "=&r"(xv),
                           [wv] "=&r"(wv)
                         : [words] "r"(words), [stride] "r"(stride)
                         : "memory");
    if (n & 3)
        mcuq_block_tail_s8(w, 1, mcuq_tail_word_s8(x, n & 3), &acc);
    return acc;
}

/* two input vectors (two output pixels' columns) through one block of 4 rows:
 * acc0[g] += sum_k w_g[k] x0[k], acc1[g] += sum_k w_g[k] x1[k]. Per word of the inputs,
 * 2 + 4 loads and 8 dot products (32 MACs in 14 instructions, against 17 for eight rows
 * of one vector): each weight word serves both pixels. Each load is used two or more
 * instructions later. */
MCUQ_ALWAYS_INLINE void mcuq_dot4i_2x_s8(const int8_t *restrict w, const int8_t *restrict x0,
                                         const int8_t *restrict x1, int32_t n, int32_t acc0[4],
                                         int32_t acc1[4])
{
    int32_t a0 = acc0[0], a1 = acc0[1], a2 = acc0[2], a3 = acc0[3];
    int32_t b0 = acc1[0], b1 = acc1[1], b2 = acc1[2], b3 = acc1[3], xa, xb, wa, wb;
    const int32_t words = n >> 2;
    if (words)
        __asm__ volatile(MCUQ_HWLOOP0("%[words]",
                                      MCUQ_LW("%[xa]", "%[x0]", "4"),
                                      MCUQ_LW("%[xb]", "%[x1]", "4"),
                                      MCUQ_LW("%[wa]", "%[w]", "4"),
                                      MCUQ_LW("%[wb]", "%[w]", "4"),
                                      MCUQ_SDOT("%[a0]", "%[wa]", "%[xa]"),
                                      MCUQ_SDOT("%[b0]", "%[wa]", "%[xb]"),
                                      MCUQ_LW("%[wa]", "%[w]", "4"),
                                      MCUQ_SDOT("%[a1]", "%[wb]", "%[xa]"),
                                      MCUQ_SDOT("%[b1]", "%[wb]", "%[xb]"),
                                      MCUQ_LW("%[wb]", "%[w]", "4"),
                                      MCUQ_SDOT("%[a2]", "%[wa]", "%[xa]"),
                                      MCUQ_SDOT("%[b2]", "%[wa]", "%[xb]"),
                                      MCUQ_SDOT("%[a3]", "%[wb]", "%[xa]"),
                                      MCUQ_SDOT("%[b3]", "%[wb]", "%[xb]"))
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                           [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3),
                           [w] "+r"(w), [x0] "+r"(x0), [x1] "+r"(x1), [xa] "=&r"(xa),
                           [xb] "=&r"(xb), [wa] "=&r"(wa), [wb] "=&r"(wb)
                         : [words] "r"(words)
                         : "memory");
    acc0[0] = a0;
    acc0[1] = a1;
    acc0[2] = a2;
    acc0[3] = a3;
    acc1[0] = b0;
    acc1[1] = b1;
    acc1[2] = b2;
    acc1[3] = b3;
    if (n & 3) {
        mcuq_block_tail_s8(w, 4, mcuq_tail_word_s8(x0, n & 3), acc0);
        mcuq_block_tail_s8(w, 4, mcuq_tail_word_s8(x1, n & 3), acc1);
    }
}

/* acc + the taps' products with x[0], x[1], x[2] (x[3] is read and meets the zero tap):
 * one lw, which the core does at any alignment (clang would build a word at an
 * unknown alignment from four byte loads), and one sdotsp.b */
MCUQ_ALWAYS_INLINE int32_t mcuq_dot3_s8(int32_t acc, mcuq_taps3_t w, const int8_t *x)
{
    int32_t v;
    __asm__("lw %0, 0(%1)" : "=r"(v) : "r"(x), "m"(*(const int8_t(*)[4])x));
    return mcuq_sdot4_s8(acc, w, v);
}

/* words 4-byte words from src to dst (both 4-byte aligned): two words per iteration of a
 * hardware loop, each load used two instructions later (2 cycles a word) */
MCUQ_ALWAYS_INLINE void mcuq_copy_words(uint8_t *dst, const uint8_t *src, int32_t words)
{
    int32_t a, b;
    const int32_t pairs = words >> 1;
    if (words & 1) {
        __asm__ volatile("cv.lw %[a], (%[src]), 4\n"
                         "cv.sw %[a], (%[dst]), 4\n"
                         : [a] "=&r"(a), [src] "+r"(src), [dst] "+r"(dst)
                         :
                         : "memory");
    }
    if (pairs)
        __asm__ volatile(MCUQ_HWLOOP0("%[pairs]",
                                      MCUQ_LW("%[a]", "%[src]", "4"),
                                      MCUQ_LW("%[b]", "%[src]", "4"),
                                      "cv.sw %[a], (%[dst]), 4\n",
                                      "cv.sw %[b], (%[dst]), 4\n")
                         : [a] "=&r"(a), [b] "=&r"(b), [src] "+r"(src), [dst] "+r"(dst)
                         : [pairs] "r"(pairs)
                         : "memory");
}

/* words 4-byte copies of value from dst on (4-byte aligned): four stores per iteration
 * of a hardware loop (a body takes three instructions at least), the rest one by one */
MCUQ_ALWAYS_INLINE void mcuq_fill_words(uint8_t *dst, uint32_t value, int32_t words)
{
    const int32_t quads = words >> 2;
    for (int32_t i = 0; i < (words & 3); i++)
        __asm__ volatile("cv.sw %[v], (%[dst]), 4\n" : [dst] "+r"(dst) : [v] "r"(value)
                         : "memory");
    if (quads)
        __asm__ volatile(MCUQ_HWLOOP0("%[quads]", "cv.sw %[v], (%[dst]), 4\n",
                                      "cv.sw %[v], (%[dst]), 4\n", "cv.sw %[v], (%[dst]), 4\n",
                                      "cv.sw %[v], (%[dst]), 4\n")
                         : [dst] "+r"(dst)
                         : [quads] "r"(quads), [v] "r"(value)
                         : "memory");
}

/* The image of one channel into its plane (see the C form): two nested hardware loops,
 * two bytes per inner iteration, each load used two instructions later (2 cycles a byte),
 * and per row only the two pointers' steps to the next row (and an odd column's byte) */
MCUQ_ALWAYS_INLINE void mcuq_gather_plane_s8(uint8_t *dst, int32_t dst_stride, const int8_t *src,
                                             int32_t step, int32_t src_stride, int32_t rows,
                                             int32_t cols)
{
    if (rows <= 0 || cols < 2) {  /* no inner loop of one iteration or more */
        for (int32_t r = 0; r < rows; r++, dst += dst_stride, src += src_stride)
            for (int32_t i = 0; i < cols; i++)
                dst[i] = (uint8_t)src[i * step];
        return;
    }
    const int32_t pairs = cols >> 1;
    const int32_t src_gap = src_stride - cols * step, dst_gap = dst_stride - cols;
    int32_t a, b;
#define MCUQ_GATHER_PAIRS                                                                 \
    MCUQ_INNER0("%[pairs]", "cv.lb %[a], (%[src]), %[step]\n",                             \
                "cv.lb %[b], (%[src]), %[step]\n", "cv.sb %[a], (%[dst]), 1\n",           \
                "cv.sb %[b], (%[dst]), 1\n")
#define MCUQ_GATHER_OPERANDS                                                              \
    : [a] "=&r"(a), [b] "=&r"(b), [src] "+r"(src), [dst] "+r"(dst)                         \
    : [rows] "r"(rows), [pairs] "r"(pairs), [step] "r"(step), [src_gap] "r"(src_gap),      \
      [dst_gap] "r"(dst_gap)                                                              \
    : "memory"
    if (cols & 1)
        __asm__ volatile(MCUQ_HWLOOP1("%[rows]", MCUQ_GATHER_PAIRS,
                                      "cv.lb %[a], (%[src]), %[step]\n",
                                      "add %[src], %[src], %[src_gap]\n",
                                      "cv.sb %[a], (%[dst]), 1\n",
                                      "add %[dst], %[dst], %[dst_gap]\n")
                             MCUQ_GATHER_OPERANDS);
    else
        __asm__ volatile(MCUQ_HWLOOP1("%[rows]", MCUQ_GATHER_PAIRS,
                                      "add %[src], %[src], %[src_gap]\n",
                                      "add %[dst], %[dst], %[dst_gap]\n")
                             MCUQ_GATHER_OPERANDS);
#undef MCUQ_GATHER_OPERANDS
#undef MCUQ_GATHER_PAIRS
}

/* a word at any alignment: one lw or sw, which the core splits itself when misaligned
 * (clang would build it from byte accesses, not knowing the core does) */
MCUQ_ALWAYS_INLINE uint32_t mcuq_load_word(const uint8_t *p)
{
    uint32_t v;
    __asm__("lw %0, 0(%1)" : "=r"(v) : "r"(p), "m"(*(const uint8_t(*)[4])p));
    return v;
}

MCUQ_ALWAYS_INLINE void mcuq_store_word(uint8_t *p, uint32_t v)
{
    __asm__("sw %1, 0(%2)" : "=m"(*(uint8_t(*)[4])p) : "r"(v), "r"(p));
}

/* 4 quads channels' images into as many planes (see the C form), four at a time: per
 * four pixels of a row, one word of each pixel (its four channels), a 4x4 byte
 * transposition (cv.shuffle2.b pairs the pixels' bytes, cv.pack and cv.pack.h join the
 * halves) and one word into each plane: 18 instructions for 16 bytes, against 2 cycles a
 * byte one channel at a time. Loads and stores at any alignment (a misaligned one takes a
 * cycle more: the plane's image starts after the padding, where the windows' row words
 * are aligned as often as can be). Two nested hardware loops over the rows and their
 * groups of four columns, a quad at a time, the cols % 4 last columns of each row a pixel
 * at a time (a word, then its four bytes); an image of four columns (MobileOne's 4x4
 * maps) in one asm, the loops over the quads and the rows, where a call per quad cost a
 * quarter of the gathering. */
#define MCUQ_GATHER_QUAD                                                                  \
    "cv.lw %[x0], (%[s]), %[step]\n", "cv.lw %[x1], (%[s]), %[step]\n",                     \
        "cv.lw %[x2], (%[s]), %[step]\n", "cv.lw %[x3], (%[s]), %[step]\n",                 \
        "mv %[t1], %[x0]\n", "cv.shuffle2.b %[t1], %[x1], %[sel_b]\n",                      \
        "cv.shuffle2.b %[x0], %[x1], %[sel_a]\n", "mv %[t3], %[x2]\n",                       \
        "cv.shuffle2.b %[t3], %[x3], %[sel_b]\n", "cv.shuffle2.b %[x2], %[x3], %[sel_a]\n",  \
        "cv.pack %[y], %[x2], %[x0]\n", "cv.pack.h %[x0], %[x2], %[x0]\n",                  \
        "cv.sw %[x0], %[p1](%[d])\n", "cv.pack %[x2], %[t3], %[t1]\n",                       \
        "cv.sw %[x2], %[p2](%[d])\n", "cv.pack.h %[t3], %[t3], %[t1]\n",                     \
        "cv.sw %[t3], %[p3](%[d])\n", "cv.sw %[y], (%[d]), 4\n"
#define MCUQ_GATHER_OPERANDS(...)                                                         \
    : [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [t1] "=&r"(t1),       \
      [t3] "=&r"(t3), [y] "=&r"(y), [s] "+r"(s), [d] "+r"(d)                               \
    : [rows] "r"(rows), [step] "r"(step), [sel_a] "r"(sel_a), [sel_b] "r"(sel_b),          \
      [p1] "r"(p1), [p2] "r"(p2), [p3] "r"(p3), [src_gap] "r"(src_gap),                   \
      [dst_gap] "r"(dst_gap), __VA_ARGS__                                                 \
    : "memory"
MCUQ_ALWAYS_INLINE void mcuq_gather_planes4_s8(uint8_t *dst, int32_t dst_stride,
                                              int32_t plane_bytes, const int8_t *src,
                                              int32_t step, int32_t src_stride, int32_t rows,
                                              int32_t cols, int32_t quads)
{
    const int32_t groups = cols >> 2, rest = cols & 3;
    if (rows <= 0 || quads <= 0)
        return;
    /* lanes [0 1 2 3] of the shuffles: bytes 0 and 1 (A) or 2 and 3 (B) of the pixel in
     * rD and of the one in rs1 (selector bit 2), interleaved */
    const uint32_t sel_a = 0x05010400u, sel_b = 0x07030602u;
    const int32_t p1 = plane_bytes, p2 = 2 * plane_bytes, p3 = 3 * plane_bytes;
    const int32_t src_gap = src_stride - 4 * groups * step, dst_gap = dst_stride - 4 * groups;
    int32_t x0, x1, x2, x3, t1, t3, y;
    if (groups == 1 && rest == 0) {
        const int8_t *s = src;
        uint8_t *d = dst;
        __asm__ volatile(MCUQ_HWLOOP1("%[quads]",
                                      MCUQ_INNER0("%[rows]", MCUQ_GATHER_QUAD,
                                                  "add %[s], %[s], %[src_gap]\n",
                                                  "add %[d], %[d], %[dst_gap]\n"),
                                      "add %[s], %[s], %[src_quad]\n",
                                      "add %[d], %[d], %[dst_quad]\n")
                             MCUQ_GATHER_OPERANDS([quads] "r"(quads),
                                                  [src_quad] "r"(4 - rows * src_stride),
                                                  [dst_quad] "r"(4 * plane_bytes -
                                                                 rows * dst_stride)));
        return;
    }
    for (int32_t q = 0; q < quads; q++, dst += 4 * plane_bytes, src += 4) {
        const int8_t *s = src;
        uint8_t *d = dst;
        if (groups > 0)
            __asm__ volatile(MCUQ_HWLOOP1("%[rows]", MCUQ_INNER0("%[groups]", MCUQ_GATHER_QUAD),
                                          "add %[s], %[s], %[src_gap]\n",
                                          "add %[d], %[d], %[dst_gap]\n")
                                 MCUQ_GATHER_OPERANDS([groups] "r"(groups)));
        if (rest) {  /* a word per pixel, its bytes into the four planes */
            s = src + 4 * groups * step;
            d = dst + 4 * groups;
            for (int32_t r = 0; r < rows; r++, s += src_stride, d += dst_stride)
                for (int32_t i = 0; i < rest; i++) {
                    const uint32_t v = mcuq_load_word((const uint8_t *)s + i * step);
                    d[i] = (uint8_t)v;
                    d[i + plane_bytes] = (uint8_t)(v >> 8);
                    d[i + 2 * plane_bytes] = (uint8_t)(v >> 16);
                    d[i + 3 * plane_bytes] = (uint8_t)(v >> 24);
                }
        }
    }
}
#undef MCUQ_GATHER_OPERANDS
#undef MCUQ_GATHER_QUAD

/* The depthwise 3x3 column and column pair (see the C forms), the window rows in
 * registers. The sums start from the first row's dot product (cv.dotsp.b, no move of
 * the bias) and requantize with one 32-bit mul (1 cycle; mulh takes 5): the export's
 * short multipliers keep acc mult in int32 (requant_mul). The bias and the zero point
 * ride in the rounding shift: cv.addRNr adds bias mult + zp 2^shift with the rounding
 * term (mcuq_requant_offset), exact because the export proved every such sum in int32;
 * cv.clip clamps to the int8 range. At vertical stride 1 a hardware loop of three
 * outputs whose rows rotate, so each output loads one new row word (any alignment: the
 * core splits a misaligned word itself), then the count % 3 last outputs; at stride 2
 * each output loads two rows and keeps its last.
 * Per output of a column: the loads, three dot products, mul, cv.addRNr, cv.clip and a
 * post-increment store (8 instructions at stride 1); a pair shares the row words between
 * its two columns (15 instructions for two outputs). */
#define MCUQ_DW3_REQUANT(acc)                                                             \
    "mul %[" acc "], %[" acc "], %[mult]\n", "cv.addRNr %[" acc "], %[offset], %[shift]\n", \
        "cv.clip %[" acc "], %[" acc "], 8\n"
#define MCUQ_DW3_DOTS(acc, r0, r1, r2, w)                                                 \
    "cv.dotsp.b %[" acc "], %[" r0 "], %[" w "0]\n",                                        \
        MCUQ_SDOT("%[" acc "]", "%[" r1 "]", "%[" w "1]"),                                  \
        MCUQ_SDOT("%[" acc "]", "%[" r2 "]", "%[" w "2]")
#define MCUQ_DW3_STORE "cv.sb %[acc], (%[y]), %[ystep]\n"
#define MCUQ_DW3_OUTPUT(r0, r1, r2)                                                       \
    MCUQ_LW("%[" r2 "]", "%[next]", "%[stride]"), MCUQ_DW3_DOTS("acc", r0, r1, r2, "w"),    \
        MCUQ_DW3_REQUANT("acc"), MCUQ_DW3_STORE
#define MCUQ_DW3_OPERANDS                                                                 \
    : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [acc] "=&r"(acc), [next] "+r"(next),           \
      [y] "+r"(y)                                                                         \
    : [n] "r"(n), [stride] "r"(stride), [ystep] "r"(ystep), [w0] "r"(w0), [w1] "r"(w1),     \
      [w2] "r"(w2), [mult] "r"(mult), [shift] "r"(shift), [offset] "r"(offset)              \
    : "memory"
MCUQ_ALWAYS_INLINE void mcuq_dw3_column_s8(const int8_t *src, int32_t stride, int32_t step,
                                           int8_t *y, int32_t ystep, int32_t count,
                                           mcuq_taps3_t w0, mcuq_taps3_t w1, mcuq_taps3_t w2,
                                           int32_t bias, int32_t mult, int32_t shift,
                                           int32_t zp)
{
    int32_t a, b = 0, c = 0, acc, n;
    const int32_t offset = mcuq_requant_offset(bias, mult, shift, zp);
    const int8_t *next = src;  /* the next row to load */
    if (count <= 0)
        return;
    __asm__ volatile("cv.lw %[a], (%[next]), %[stride]\n" : [a] "=&r"(a), [next] "+r"(next)
                     : [stride] "r"(stride) : "memory");
    if (step == 1) {
        __asm__ volatile("cv.lw %[b], (%[next]), %[stride]\n" : [b] "=&r"(b), [next] "+r"(next)
                         : [stride] "r"(stride) : "memory");
        n = count / 3;
        if (n)
            __asm__ volatile(MCUQ_HWLOOP0("%[n]", MCUQ_DW3_OUTPUT("a", "b", "c"),
                                          MCUQ_DW3_OUTPUT("b", "c", "a"),
                                          MCUQ_DW3_OUTPUT("c", "a", "b")) MCUQ_DW3_OPERANDS);
        n = count % 3;
        if (n)
            __asm__ volatile(MCUQ_HWLOOP0("%[n]", MCUQ_DW3_OUTPUT("a", "b", "c"),
                                          "mv %[a], %[b]\n", "mv %[b], %[c]\n")
                                 MCUQ_DW3_OPERANDS);
    } else {  /* stride 2: rows 2i, 2i + 1, 2i + 2 */
        n = count;
        __asm__ volatile(MCUQ_HWLOOP0("%[n]", MCUQ_LW("%[b]", "%[next]", "%[stride]"),
                                      MCUQ_LW("%[c]", "%[next]", "%[stride]"),
                                      MCUQ_DW3_DOTS("acc", "a", "b", "c", "w"),
                                      "mv %[a], %[c]\n", MCUQ_DW3_REQUANT("acc"),
                                      MCUQ_DW3_STORE) MCUQ_DW3_OPERANDS);
    }
}
#undef MCUQ_DW3_OPERANDS
#undef MCUQ_DW3_OUTPUT

/* pairs of adjacent columns, all in one asm: the left column's taps in bytes 0 to 2 of
 * the row word (w), the right one's in bytes 1 to 3 (v = w << 8), the right output at
 * y + right. An outer hardware loop over the pairs sets the rows and pointers of a pair
 * up, then runs the inner loop down the pair (the count % 3 last outputs unrolled
 * after it; columns of one or two outputs unrolled alone), so no C runs between columns. */
#define MCUQ_DW3_PAIR_DOTS(r0, r1, r2)                                                    \
    MCUQ_DW3_DOTS("acc", r0, r1, r2, "w"), MCUQ_DW3_DOTS("acd", r0, r1, r2, "v"),           \
        MCUQ_DW3_REQUANT("acc"), MCUQ_DW3_REQUANT("acd"), "cv.sb %[acd], %[right](%[y])\n", \
        MCUQ_DW3_STORE
#define MCUQ_DW3_PAIR_OUTPUT(r0, r1, r2)                                                  \
    MCUQ_LW("%[" r2 "]", "%[next]", "%[stride]"), MCUQ_DW3_PAIR_DOTS(r0, r1, r2)
#define MCUQ_DW3_PAIR_HEAD                                                                \
    "mv %[next], %[top]\n", MCUQ_LW("%[a]", "%[next]", "%[stride]"), "mv %[y], %[ycol]\n"
#define MCUQ_DW3_PAIR_STEP1                                                               \
    MCUQ_DW3_PAIR_HEAD, MCUQ_LW("%[b]", "%[next]", "%[stride]"),                            \
        MCUQ_INNER0("%[n]", MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),                            \
                    MCUQ_DW3_PAIR_OUTPUT("b", "c", "a"), MCUQ_DW3_PAIR_OUTPUT("c", "a", "b"))
#define MCUQ_DW3_PAIR_TAIL                                                                \
    "addi %[top], %[top], 2\n", "add %[ycol], %[ycol], %[right]\n",                         \
        "add %[ycol], %[ycol], %[right]\n"
#define MCUQ_DW3_OPERANDS                                                                 \
    : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [acc] "+r"(acc), [acd] "+r"(acd),              \
      [next] "+r"(next), [y] "+r"(y), [top] "+r"(top), [ycol] "+r"(ycol)                  \
    : [pairs] "r"(pairs), [n] "r"(n), [stride] "r"(stride),                                \
      [ystep] "r"(ystep), [right] "r"(right), [w0] "r"(w0), [w1] "r"(w1), [w2] "r"(w2),     \
      [v0] "r"(v0), [v1] "r"(v1), [v2] "r"(v2), [mult] "r"(mult), [shift] "r"(shift),       \
      [offset] "r"(offset)                                                                \
    : "memory"
MCUQ_ALWAYS_INLINE void mcuq_dw3_column_pairs_s8(const int8_t *top, int32_t stride, int32_t step,
                                                 int8_t *ycol, int32_t ystep, int32_t right,
                                                 int32_t pairs, int32_t count,
                                                 mcuq_taps3_t w0, mcuq_taps3_t w1,
                                                 mcuq_taps3_t w2, int32_t bias, int32_t mult,
                                                 int32_t shift, int32_t zp)
{
    if (pairs <= 0 || count <= 0)
        return;
    int32_t a = 0, b = 0, c = 0, acc = 0, acd = 0;
    const int8_t *next = top;
    int8_t *y = ycol;
    const int32_t offset = mcuq_requant_offset(bias, mult, shift, zp);
    const int32_t v0 = (int32_t)((uint32_t)w0 << 8), v1 = (int32_t)((uint32_t)w1 << 8),
                  v2 = (int32_t)((uint32_t)w2 << 8);
    const int32_t n = step == 1 ? count / 3 : count, rem = count - 3 * n;
    /* columns of one or two outputs: no inner loop (one of no iteration would run once) */
    if (step == 1 && count == 1)
        __asm__ volatile(MCUQ_HWLOOP1("%[pairs]", MCUQ_DW3_PAIR_HEAD,
                                      MCUQ_LW("%[b]", "%[next]", "%[stride]"),
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"), MCUQ_DW3_PAIR_TAIL)
                             MCUQ_DW3_OPERANDS);
    else if (step == 1 && count == 2)
        __asm__ volatile(MCUQ_HWLOOP1("%[pairs]", MCUQ_DW3_PAIR_HEAD,
                                      MCUQ_LW("%[b]", "%[next]", "%[stride]"),
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),
                                      MCUQ_DW3_PAIR_OUTPUT("b", "c", "a"), MCUQ_DW3_PAIR_TAIL)
                             MCUQ_DW3_OPERANDS);
    else if (step != 1)
        __asm__ volatile(MCUQ_HWLOOP1("%[pairs]", MCUQ_DW3_PAIR_HEAD,
                                      MCUQ_INNER0("%[n]", MCUQ_LW("%[b]", "%[next]", "%[stride]"),
                                                  MCUQ_LW("%[c]", "%[next]", "%[stride]"),
                                                  MCUQ_DW3_PAIR_DOTS("a", "b", "c"), "mv %[a], %[c]\n"),
                                      MCUQ_DW3_PAIR_TAIL) MCUQ_DW3_OPERANDS);
    else if (rem == 0)
        __asm__ volatile(MCUQ_HWLOOP1("%[pairs]", MCUQ_DW3_PAIR_STEP1, MCUQ_DW3_PAIR_TAIL)
                             MCUQ_DW3_OPERANDS);
    else if (rem == 1)  /* the last one or two outputs unrolled: no loop, no moves */
        __asm__ volatile(MCUQ_HWLOOP1("%[pairs]", MCUQ_DW3_PAIR_STEP1,
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"), MCUQ_DW3_PAIR_TAIL)
                             MCUQ_DW3_OPERANDS);
    else
        __asm__ volatile(MCUQ_HWLOOP1("%[pairs]", MCUQ_DW3_PAIR_STEP1,
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),
                                      MCUQ_DW3_PAIR_OUTPUT("b", "c", "a"), MCUQ_DW3_PAIR_TAIL)
                             MCUQ_DW3_OPERANDS);
}
#undef MCUQ_DW3_OPERANDS
#undef MCUQ_DW3_PAIR_TAIL

/* `columns` single columns at vertical stride 2, colstep bytes apart in the plane (the
 * horizontal stride), all in one asm: an outer hardware loop over the columns sets a
 * column's first row and pointers up, then runs the inner loop down it, three outputs
 * whose rows rotate (two row loads each, the last row kept for the next: 9 instructions
 * an output, no move), then the count % 3 last outputs unrolled; so no C runs between
 * columns. */
#define MCUQ_DW3_STEP2_OUTPUT(r0, r1, r2)                                                 \
    MCUQ_LW("%[" r1 "]", "%[next]", "%[stride]"), MCUQ_LW("%[" r2 "]", "%[next]", "%[stride]"), \
        MCUQ_DW3_DOTS("acc", r0, r1, r2, "w"), MCUQ_DW3_REQUANT("acc"), MCUQ_DW3_STORE
#define MCUQ_DW3_STEP2_LOOP                                                               \
    MCUQ_INNER0("%[n]", MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"),                               \
                MCUQ_DW3_STEP2_OUTPUT("c", "a", "b"), MCUQ_DW3_STEP2_OUTPUT("b", "c", "a"))
#define MCUQ_DW3_STEP2_TAIL                                                               \
    "add %[top], %[top], %[colstep]\n", "add %[ycol], %[ycol], %[right]\n"
#define MCUQ_DW3_OPERANDS                                                                 \
    : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [acc] "+r"(acc), [next] "+r"(next),            \
      [y] "+r"(y), [top] "+r"(top), [ycol] "+r"(ycol)                                     \
    : [columns] "r"(columns), [n] "r"(n), [stride] "r"(stride), [ystep] "r"(ystep),        \
      [right] "r"(right), [colstep] "r"(colstep), [w0] "r"(w0), [w1] "r"(w1), [w2] "r"(w2), \
      [mult] "r"(mult), [shift] "r"(shift), [offset] "r"(offset)                          \
    : "memory"
MCUQ_ALWAYS_INLINE void mcuq_dw3_columns_step2_s8(const int8_t *top, int32_t stride,
                                                  int32_t colstep, int8_t *ycol, int32_t ystep,
                                                  int32_t right, int32_t columns, int32_t count,
                                                  mcuq_taps3_t w0, mcuq_taps3_t w1,
                                                  mcuq_taps3_t w2, int32_t bias, int32_t mult,
                                                  int32_t shift, int32_t zp)
{
    if (columns <= 0 || count <= 0)
        return;
    int32_t a = 0, b = 0, c = 0, acc = 0;
    const int8_t *next = top;
    int8_t *y = ycol;
    const int32_t offset = mcuq_requant_offset(bias, mult, shift, zp);
    const int32_t n = count / 3, rem = count - 3 * n;
    /* a loop of no iteration would run once: columns of one or two outputs unrolled alone */
    if (n == 0 && rem == 1)
        __asm__ volatile(MCUQ_HWLOOP1("%[columns]", MCUQ_DW3_PAIR_HEAD,
                                      MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"), MCUQ_DW3_STEP2_TAIL)
                             MCUQ_DW3_OPERANDS);
    else if (n == 0)
        __asm__ volatile(MCUQ_HWLOOP1("%[columns]", MCUQ_DW3_PAIR_HEAD,
                                      MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"),
                                      MCUQ_DW3_STEP2_OUTPUT("c", "a", "b"), MCUQ_DW3_STEP2_TAIL)
                             MCUQ_DW3_OPERANDS);
    else if (rem == 0)
        __asm__ volatile(MCUQ_HWLOOP1("%[columns]", MCUQ_DW3_PAIR_HEAD, MCUQ_DW3_STEP2_LOOP,
                                      MCUQ_DW3_STEP2_TAIL) MCUQ_DW3_OPERANDS);
    else if (rem == 1)
        __asm__ volatile(MCUQ_HWLOOP1("%[columns]", MCUQ_DW3_PAIR_HEAD, MCUQ_DW3_STEP2_LOOP,
                                      MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"), MCUQ_DW3_STEP2_TAIL)
                             MCUQ_DW3_OPERANDS);
    else
        __asm__ volatile(MCUQ_HWLOOP1("%[columns]", MCUQ_DW3_PAIR_HEAD, MCUQ_DW3_STEP2_LOOP,
                                      MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"),
                                      MCUQ_DW3_STEP2_OUTPUT("c", "a", "b"), MCUQ_DW3_STEP2_TAIL)
                             MCUQ_DW3_OPERANDS);
}
#undef MCUQ_DW3_STEP2_TAIL
#undef MCUQ_DW3_STEP2_LOOP
#undef MCUQ_DW3_OPERANDS

/* n channels at stride 2 (both ways), out_h of 1 to 4 (see mcuq_dw3_channels_s8), all
 * in one asm: an outer hardware loop over the channels loads a channel's taps, bias,
 * multiplier and shift (the offset worked out in the loop), then an inner loop over its
 * out_w columns runs each column's outputs unrolled, rows rotating as in
 * mcuq_dw3_columns_step2_s8. A channel's planes and outputs then follow with no C between
 * them: MobileOne's 4x4 -> 2x2 layer took 190 cycles a channel in the C loop. */
#define MCUQ_DW3_STEP2_HEAD                                                               \
    "cv.lw %[w0], (%[wp]), 4\n", "cv.lw %[w1], (%[wp]), 4\n", "cv.lw %[w2], (%[wp]), 4\n",    \
        "cv.lw %[mult], (%[mp]), 4\n", "cv.lw %[shift], (%[sp]), 4\n",                      \
        "cv.lw %[offset], (%[bp]), 4\n", "sll %[acc], %[zp], %[shift]\n",                   \
        "mul %[offset], %[offset], %[mult]\n", "add %[offset], %[offset], %[acc]\n"
#define MCUQ_DW3_STEP2_CHANNELS(...)                                                      \
    MCUQ_HWLOOP1("%[n]", MCUQ_DW3_STEP2_HEAD,                                             \
                 MCUQ_INNER0("%[cols]", MCUQ_DW3_PAIR_HEAD, __VA_ARGS__,                    \
                             "addi %[top], %[top], 2\n", "add %[ycol], %[ycol], %[right]\n"),   \
                 "add %[top], %[top], %[topstep]\n", "add %[ycol], %[ycol], %[ycolstep]\n")
#define MCUQ_DW3_OPERANDS                                                                 \
    : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [acc] "=&r"(acc), [next] "=&r"(next),       \
      [y] "=&r"(y), [top] "+&r"(top), [ycol] "+&r"(ycol), [w0] "=&r"(w0), [w1] "=&r"(w1),   \
      [w2] "=&r"(w2), [mult] "=&r"(m), [shift] "=&r"(s), [offset] "=&r"(offset),            \
      [wp] "+&r"(wp), [bp] "+&r"(bias), [mp] "+&r"(mult), [sp] "+&r"(shift)                 \
    : [n] "r"(n), [cols] "r"(out_w), [stride] "r"(stride), [ystep] "r"(ystep),              \
      [right] "r"(right), [zp] "r"(zp), [topstep] "r"(plane_bytes - 2 * out_w),             \
      [ycolstep] "r"(1 - out_w * right)                                                   \
    : "memory"
MCUQ_ALWAYS_INLINE void mcuq_dw3_channels_step2_s8(const int8_t *top, int32_t plane_bytes,
                                                   int32_t stride, int32_t out_h,
                                                   int32_t out_w, int8_t *ycol, int32_t right,
                                                   int32_t n, const int8_t *weight,
                                                   const int32_t *bias, const int32_t *mult,
                                                   const int32_t *shift, int32_t zp)
{
    const int32_t ystep = out_w * right;
    const int8_t *wp = weight;
    int32_t a, b, c, acc, w0, w1, w2, m, s, offset;
    const int8_t *next;
    int8_t *y;
    if (out_h == 1)
        __asm__ volatile(MCUQ_DW3_STEP2_CHANNELS(MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"))
                             MCUQ_DW3_OPERANDS);
    else if (out_h == 2)
        __asm__ volatile(MCUQ_DW3_STEP2_CHANNELS(MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"),
                                                 MCUQ_DW3_STEP2_OUTPUT("c", "a", "b"))
                             MCUQ_DW3_OPERANDS);
    else if (out_h == 3)
        __asm__ volatile(MCUQ_DW3_STEP2_CHANNELS(MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"),
                                                 MCUQ_DW3_STEP2_OUTPUT("c", "a", "b"),
                                                 MCUQ_DW3_STEP2_OUTPUT("b", "c", "a"))
                             MCUQ_DW3_OPERANDS);
    else
        __asm__ volatile(MCUQ_DW3_STEP2_CHANNELS(MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"),
                                                 MCUQ_DW3_STEP2_OUTPUT("c", "a", "b"),
                                                 MCUQ_DW3_STEP2_OUTPUT("b", "c", "a"),
                                                 MCUQ_DW3_STEP2_OUTPUT("a", "b", "c"))
                             MCUQ_DW3_OPERANDS);
}
#undef MCUQ_DW3_OPERANDS
#undef MCUQ_DW3_STEP2_CHANNELS
#undef MCUQ_DW3_STEP2_HEAD

/* n channels of a 2x2 or 4x4 map at stride 1 (see the C form; the stride-2 shapes:
 * mcuq_dw3_channels_step2_s8), all in one asm: a hardware
 * loop over the channels, each loading its taps, bias, multiplier and shift itself
 * (post-increment loads; the bias mult + zp 2^shift offset worked out in the loop), then
 * its one or two column pairs down its plane with every output unrolled. No C runs
 * between channels: on a 4x4 map a channel takes about 150 cycles for its 144 MACs, where
 * a loop over channels in C spent about 100 more. The planes' rows are 8 bytes (the
 * plane geometry of these shapes: depthwise.h). */
#define MCUQ_DW3_CHANNEL_HEAD                                                             \
    "cv.lw %[w0], (%[wp]), 4\n", "cv.lw %[w1], (%[wp]), 4\n", "cv.lw %[w2], (%[wp]), 4\n",    \
        "cv.lw %[offset], (%[bp]), 4\n", "cv.lw %[mult], (%[mp]), 4\n",                     \
        "cv.lw %[shift], (%[sp]), 4\n", "slli %[v0], %[w0], 8\n", "slli %[v1], %[w1], 8\n",   \
        "mul %[offset], %[offset], %[mult]\n", "sll %[acd], %[zp], %[shift]\n",             \
        "slli %[v2], %[w2], 8\n", "add %[offset], %[offset], %[acd]\n"
#define MCUQ_DW3_OPERANDS                                                                 \
    : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [acc] "=&r"(acc), [acd] "+&r"(acd),         \
      [next] "=&r"(next), [y] "=&r"(y), [top] "+&r"(top), [ycol] "+&r"(ycol),               \
      [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [v0] "=&r"(v0), [v1] "=&r"(v1),       \
      [v2] "=&r"(v2), [mult] "=&r"(m), [shift] "=&r"(s), [offset] "=&r"(offset),            \
      [wp] "+&r"(wp), [bp] "+&r"(bias), [mp] "+&r"(mult), [sp] "+&r"(shift)                 \
    : [stride] "r"(stride), [ystep] "r"(ystep), [right] "r"(right), [zp] "r"(zp)            \
    : "memory"
/* whether mcuq_dw3_channels_s8 takes this shape: stride 2 (both ways) with columns of 4
 * outputs or fewer, or a 2x2 or 4x4 map at stride 1 in planes of 8-byte rows */
MCUQ_ALWAYS_INLINE int32_t mcuq_dw3_channels_shape(int32_t plane_bytes, int32_t stride,
                                                  int32_t sh, int32_t sw, int32_t out_h,
                                                  int32_t out_w)
{
    if (sh == 2 && sw == 2)
        return out_h <= 4;
    return sh == 1 && sw == 1 && stride == 8 && out_h == out_w && (out_h == 2 || out_h == 4) &&
           plane_bytes == 8 * (out_h + 2);
}

MCUQ_ALWAYS_INLINE void mcuq_dw3_channels_s8(const int8_t *top, int32_t plane_bytes,
                                            int32_t stride, int32_t sh, int32_t sw,
                                            int32_t out_h, int32_t out_w, int8_t *ycol,
                                            int32_t right, int32_t n, const int8_t *weight,
                                            const int32_t *bias, const int32_t *mult,
                                            const int32_t *shift, int32_t zp)
{
    (void)sw;
    if (sh == 2) {
        mcuq_dw3_channels_step2_s8(top, plane_bytes, stride, out_h, out_w, ycol, right, n,
                                   weight, bias, mult, shift, zp);
        return;
    }
    const int32_t ystep = out_w * right;
    const int8_t *wp = weight;
    int32_t a, b, c, acc, acd = n, w0, w1, w2, v0, v1, v2, m, s, offset;
    const int8_t *next;
    int8_t *y;
    if (out_h == 2)
        __asm__ volatile(MCUQ_HWLOOP0("%[acd]", MCUQ_DW3_CHANNEL_HEAD, MCUQ_DW3_PAIR_HEAD,
                                      MCUQ_LW("%[b]", "%[next]", "%[stride]"),
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),
                                      MCUQ_DW3_PAIR_OUTPUT("b", "c", "a"),
                                      "addi %[top], %[top], 32\n", "addi %[ycol], %[ycol], 1\n")
                             MCUQ_DW3_OPERANDS);
    else
        __asm__ volatile(MCUQ_HWLOOP0("%[acd]", MCUQ_DW3_CHANNEL_HEAD, MCUQ_DW3_PAIR_HEAD,
                                      MCUQ_LW("%[b]", "%[next]", "%[stride]"),
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),
                                      MCUQ_DW3_PAIR_OUTPUT("b", "c", "a"),
                                      MCUQ_DW3_PAIR_OUTPUT("c", "a", "b"),
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),
                                      "addi %[next], %[top], 2\n",
                                      MCUQ_LW("%[a]", "%[next]", "%[stride]"),
                                      "add %[y], %[ycol], %[right]\n", "add %[y], %[y], %[right]\n",
                                      MCUQ_LW("%[b]", "%[next]", "%[stride]"),
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),
                                      MCUQ_DW3_PAIR_OUTPUT("b", "c", "a"),
                                      MCUQ_DW3_PAIR_OUTPUT("c", "a", "b"),
                                      MCUQ_DW3_PAIR_OUTPUT("a", "b", "c"),
                                      "addi %[top], %[top], 48\n", "addi %[ycol], %[ycol], 1\n")
                             MCUQ_DW3_OPERANDS);
}
#undef MCUQ_DW3_OPERANDS
#undef MCUQ_DW3_CHANNEL_HEAD
#undef MCUQ_DW3_STEP2_OUTPUT
#undef MCUQ_DW3_PAIR_STEP1
#undef MCUQ_DW3_PAIR_HEAD
#undef MCUQ_DW3_PAIR_OUTPUT
#undef MCUQ_DW3_PAIR_DOTS
#undef MCUQ_DW3_STORE
#undef MCUQ_DW3_DOTS
#undef MCUQ_DW3_REQUANT

/* n channels of 2x2 maps in one hardware loop (see the C form), for 4 outputs (stride
 * 1) or 1 (stride 2) a channel: a channel loads its four map bytes (three at register
 * offsets, the first with the post-increment to the next channel) and packs them into
 * one word, loads its multiplier and shift, then per output a tap word and a bias, one
 * cv.sdotsp.b, mul, cv.addRNr of zp 2^shift and cv.clip, and a store at a register
 * offset. Two outputs go side by side so that no load is used by the next instruction:
 * 38 instructions a channel of 4 outputs (36 MACs), 16 of 1. */
#define MCUQ_DW_MAP_HEAD                                                                  \
    "cv.lb %[a1], %[right](%[x])\n", "cv.lb %[a2], %[right2](%[x])\n",                      \
        "cv.lb %[a3], %[right3](%[x])\n", "cv.lb %[a0], (%[x]), 1\n",                       \
        "cv.lw %[m], (%[mp]), 4\n", "cv.lw %[s], (%[sp]), 4\n",                             \
        "cv.packhi.b %[a0], %[a3], %[a2]\n", "cv.packlo.b %[a0], %[a1], %[a0]\n"
#define MCUQ_DW_MAP_REQUANT(acc)                                                          \
    "mul %[" acc "], %[" acc "], %[m]\n", "cv.addRNr %[" acc "], %[off], %[s]\n",            \
        "cv.clip %[" acc "], %[" acc "], 8\n"
/* outputs o and o + 1 of a channel, stored at register offsets ro and ro1 from y */
#define MCUQ_DW_MAP_PAIR(ro, ro1)                                                         \
    "cv.lw %[w], (%[wp]), 4\n", "cv.lw %[acc], (%[bp]), 4\n", "cv.lw %[v], (%[wp]), 4\n",    \
        "cv.lw %[acd], (%[bp]), 4\n", "cv.sdotsp.b %[acc], %[a0], %[w]\n",                   \
        "cv.sdotsp.b %[acd], %[a0], %[v]\n", MCUQ_DW_MAP_REQUANT("acc"),                     \
        MCUQ_DW_MAP_REQUANT("acd"), "cv.sb %[acc], " ro "(%[y])\n",                          \
        "cv.sb %[acd], " ro1 "(%[y])\n"
#define MCUQ_DW_MAP_OPERANDS                                                              \
    : [x] "+&r"(x), [y] "+&r"(y), [wp] "+&r"(weight), [bp] "+&r"(bias), [mp] "+&r"(mult),  \
      [sp] "+&r"(shift), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3),     \
      [m] "=&r"(m), [s] "=&r"(s), [off] "=&r"(off), [w] "=&r"(w), [v] "=&r"(v),             \
      [acc] "=&r"(acc), [acd] "=&r"(acd)                                                  \
    : [n] "r"(n), [right] "r"(right), [right2] "r"(2 * right), [right3] "r"(3 * right),     \
      [zp] "r"(zp)                                                                        \
    : "memory"
MCUQ_ALWAYS_INLINE int32_t mcuq_dw_map_channels_s8(const int8_t *x, int8_t *y, int32_t right,
                                                  int32_t pixels, int32_t outputs, int32_t n,
                                                  const int8_t *weight, const int32_t *bias,
                                                  const int32_t *mult, const int32_t *shift,
                                                  int32_t zp)
{
    if (pixels != 4 || (outputs != 4 && outputs != 1) || n <= 0)
        return 0;
    int32_t a0, a1, a2, a3, m, s, off, w, v = 0, acc, acd = 0;
    if (outputs == 4)
        __asm__ volatile(MCUQ_HWLOOP0("%[n]", MCUQ_DW_MAP_HEAD, "sll %[off], %[zp], %[s]\n",
                                      MCUQ_DW_MAP_PAIR("zero", "%[right]"),
                                      MCUQ_DW_MAP_PAIR("%[right2]", "%[right3]"),
                                      "addi %[y], %[y], 1\n") MCUQ_DW_MAP_OPERANDS);
    else
        __asm__ volatile(MCUQ_HWLOOP0("%[n]", MCUQ_DW_MAP_HEAD, "cv.lw %[w], (%[wp]), 4\n",
                                      "cv.lw %[acc], (%[bp]), 4\n", "sll %[off], %[zp], %[s]\n",
                                      "cv.sdotsp.b %[acc], %[a0], %[w]\n",
                                      MCUQ_DW_MAP_REQUANT("acc"), "cv.sb %[acc], (%[y]), 1\n")
                             MCUQ_DW_MAP_OPERANDS);
    return 1;
}
#undef MCUQ_DW_MAP_OPERANDS
#undef MCUQ_DW_MAP_PAIR
#undef MCUQ_DW_MAP_REQUANT
#undef MCUQ_DW_MAP_HEAD

/* two input vectors through two blocks of 4 rows (8 channels x 2 pixels): per word of
 * the inputs, 2 + 8 loads and 16 dot products (64 MACs in 26 instructions). acc0/acc1:
 * block 0 with x0/x1, acc2/acc3: block 1 with x0/x1. */
MCUQ_ALWAYS_INLINE void mcuq_dot4i2_2x_s8(const int8_t *restrict w0, const int8_t *restrict w1,
                                          const int8_t *restrict x0, const int8_t *restrict x1,
                                          int32_t n, int32_t acc0[4], int32_t acc1[4],
                                          int32_t acc2[4], int32_t acc3[4])
{
    int32_t a0 = acc0[0], a1 = acc0[1], a2 = acc0[2], a3 = acc0[3];
    int32_t b0 = acc1[0], b1 = acc1[1], b2 = acc1[2], b3 = acc1[3];
    int32_t c0 = acc2[0], c1 = acc2[1], c2 = acc2[2], c3 = acc2[3];
    int32_t d0 = acc3[0], d1 = acc3[1], d2 = acc3[2], d3 = acc3[3], xa, xb, wa, wb;
    const int32_t words = n >> 2;
    if (words)
        __asm__ volatile(MCUQ_HWLOOP0("%[words]",
                                      MCUQ_LW("%[xa]", "%[x0]", "4"),
                                      MCUQ_LW("%[xb]", "%[x1]", "4"),
                                      MCUQ_LW("%[wa]", "%[w0]", "4"),
                                      MCUQ_LW("%[wb]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a0]", "%[wa]", "%[xa]"),
                                      MCUQ_SDOT("%[b0]", "%[wa]", "%[xb]"),
                                      MCUQ_LW("%[wa]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a1]", "%[wb]", "%[xa]"),
                                      MCUQ_SDOT("%[b1]", "%[wb]", "%[xb]"),
                                      MCUQ_LW("%[wb]", "%[w0]", "4"),
                                      MCUQ_SDOT("%[a2]", "%[wa]", "%[xa]"),
                                      MCUQ_SDOT("%[b2]", "%[wa]", "%[xb]"),
                                      MCUQ_LW("%[wa]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[a3]", "%[wb]", "%[xa]"),
                                      MCUQ_SDOT("%[b3]", "%[wb]", "%[xb]"),
                                      MCUQ_LW("%[wb]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[c0]", "%[wa]", "%[xa]"),
                                      MCUQ_SDOT("%[d0]", "%[wa]", "%[xb]"),
                                      MCUQ_LW("%[wa]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[c1]", "%[wb]", "%[xa]"),
                                      MCUQ_SDOT("%[d1]", "%[wb]", "%[xb]"),
                                      MCUQ_LW("%[wb]", "%[w1]", "4"),
                                      MCUQ_SDOT("%[c2]", "%[wa]", "%[xa]"),
                                      MCUQ_SDOT("%[d2]", "%[wa]", "%[xb]"),
                                      MCUQ_SDOT("%[c3]", "%[wb]", "%[xa]"),
                                      MCUQ_SDOT("%[d3]", "%[wb]", "%[xb]"))
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                           [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3),
                           [c0] "+r"(c0), [c1] "+r"(c1), [c2] "+r"(c2), [c3] "+r"(c3),
                           [d0] "+r"(d0), [d1] "+r"(d1), [d2] "+r"(d2), [d3] "+r"(d3),
                           [w0] "+r"(w0), [w1] "+r"(w1), [x0] "+r"(x0), [x1] "+r"(x1),
                           [xa] "=&r"(xa), [xb] "=&r"(xb), [wa] "=&r"(wa), [wb] "=&r"(wb)
                         : [words] "r"(words)
                         : "memory");
    acc0[0] = a0;
    acc0[1] = a1;
    acc0[2] = a2;
    acc0[3] = a3;
    acc1[0] = b0;
    acc1[1] = b1;
    acc1[2] = b2;
    acc1[3] = b3;
    acc2[0] = c0;
    acc2[1] = c1;
    acc2[2] = c2;
    acc2[3] = c3;
    acc3[0] = d0;
    acc3[1] = d1;
    acc3[2] = d2;
    acc3[3] = d3;
    if (n & 3) {
        const int32_t xt0 = mcuq_tail_word_s8(x0, n & 3), xt1 = mcuq_tail_word_s8(x1, n & 3);
        mcuq_block_tail_s8(w0, 4, xt0, acc0);
        mcuq_block_tail_s8(w0, 4, xt1, acc1);
        mcuq_block_tail_s8(w1, 4, xt0, acc2);
        mcuq_block_tail_s8(w1, 4, xt1, acc3);
    }
}

#else

/* --- C loops over mcuq_sdot4_s8: GAP SDK builtins, or portable C ------------------- */

/* the input word at x (any alignment) */
MCUQ_ALWAYS_INLINE int32_t mcuq_input_word_s8(const int8_t *x)
{
    int32_t v;
    __builtin_memcpy(&v, x, 4);
    return v;
}

#define MCUQ_DOT_BLOCK(NAME, G)                                                         \
    MCUQ_ALWAYS_INLINE void NAME(const int8_t *restrict w, const int8_t *restrict x,    \
                                 int32_t n, int32_t acc[G])                              \
    {                                                                                    \
        for (int32_t c = 0; c < (n >> 2); c++, x += 4, w += 4 * (G)) {                   \
            const int32_t xv = mcuq_input_word_s8(x);                                    \
            for (int32_t g = 0; g < (G); g++)                                            \
                acc[g] = mcuq_sdot4_s8(acc[g], mcuq_weight_word_s8(w + 4 * g), xv);      \
        }                                                                                \
        if (n & 3)                                                                       \
            mcuq_block_tail_s8(w, (G), mcuq_tail_word_s8(x, n & 3), acc);                \
    }
MCUQ_DOT_BLOCK(mcuq_dot3i_s8, 3)
MCUQ_DOT_BLOCK(mcuq_dot4i_s8, 4)

MCUQ_ALWAYS_INLINE void mcuq_dot4i2_s8(const int8_t *restrict w0, const int8_t *restrict w1,
                                       const int8_t *restrict x, int32_t n, int32_t acc0[4],
                                       int32_t acc1[4])
{
    mcuq_dot4i_s8(w0, x, n, acc0);
    mcuq_dot4i_s8(w1, x, n, acc1);
}

MCUQ_ALWAYS_INLINE void mcuq_dot3i2_s8(const int8_t *restrict w0, const int8_t *restrict w1,
                                       const int8_t *restrict x, int32_t n, int32_t acc0[3],
                                       int32_t acc1[3])
{
    mcuq_dot3i_s8(w0, x, n, acc0);
    mcuq_dot3i_s8(w1, x, n, acc1);
}

MCUQ_ALWAYS_INLINE int32_t mcuq_dot_row_s8(const int8_t *restrict w, int32_t G, int32_t row,
                                           const int8_t *restrict x, int32_t n)
{
    int32_t acc = 0;
    w += 4 * row;
    for (int32_t c = 0; c < (n >> 2); c++, x += 4, w += 4 * G)
        acc = mcuq_sdot4_s8(acc, mcuq_weight_word_s8(w), mcuq_input_word_s8(x));
    if (n & 3)
        mcuq_block_tail_s8(w, 1, mcuq_tail_word_s8(x, n & 3), &acc);
    return acc;
}

/* two input vectors through one block of 4 rows (see the XCV form): each weight word
 * serves both */
MCUQ_ALWAYS_INLINE void mcuq_dot4i_2x_s8(const int8_t *restrict w, const int8_t *restrict x0,
                                         const int8_t *restrict x1, int32_t n, int32_t acc0[4],
                                         int32_t acc1[4])
{
    for (int32_t c = 0; c < (n >> 2); c++, x0 += 4, x1 += 4, w += 16) {
        const int32_t xa = mcuq_input_word_s8(x0), xb = mcuq_input_word_s8(x1);
        for (int32_t g = 0; g < 4; g++) {
            const int32_t wv = mcuq_weight_word_s8(w + 4 * g);
            acc0[g] = mcuq_sdot4_s8(acc0[g], wv, xa);
            acc1[g] = mcuq_sdot4_s8(acc1[g], wv, xb);
        }
    }
    if (n & 3) {
        mcuq_block_tail_s8(w, 4, mcuq_tail_word_s8(x0, n & 3), acc0);
        mcuq_block_tail_s8(w, 4, mcuq_tail_word_s8(x1, n & 3), acc1);
    }
}

/* acc + the taps' products with x[0], x[1], x[2] (x[3] is read and meets the zero tap) */
MCUQ_ALWAYS_INLINE int32_t mcuq_dot3_s8(int32_t acc, mcuq_taps3_t w, const int8_t *x)
{
    return mcuq_sdot4_s8(acc, w, mcuq_input_word_s8(x));
}

/* two input vectors through two blocks of 4 rows (see the XCV form) */
MCUQ_ALWAYS_INLINE void mcuq_dot4i2_2x_s8(const int8_t *restrict w0, const int8_t *restrict w1,
                                          const int8_t *restrict x0, const int8_t *restrict x1,
                                          int32_t n, int32_t acc0[4], int32_t acc1[4],
                                          int32_t acc2[4], int32_t acc3[4])
{
    mcuq_dot4i_2x_s8(w0, x0, x1, n, acc0, acc1);
    mcuq_dot4i_2x_s8(w1, x0, x1, n, acc2, acc3);
}

/* the byte-moving and depthwise-column primitives, in C */
#include "isa_c.h"

#endif

#endif

# SPDX-License-Identifier: MIT
# The spectrum of the harmonic grid (firmware/harmonics_grid.py): a 256-point fixed-point FFT per channel pair
# (Ua + j Ia, Ub + j Ib, Uc + j Ic), then the two real spectra separated at orders 1..31, the spreading kernel's
# response divided out, as (C, S) sums for the ratios (firmware/harmonics_ratio.py).
#
# Why: 3 FFTs of 256 points (3 x 1024 butterflies) instead of 31 x 6 correlations over the window's ~1600 samples.
# Block floating point: the grid is shifted to below 2**20 first, so every butterfly stays below 2**29 and the
# Q15 products are exact floor divisions in two 31-bit partial products. Tables are bytes constants (flash when
# frozen). Viper, allocation-free, the same words on 32- and 64-bit ports.
import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

_TOP = const(1048576)  # 2**20: the grid's largest magnitude after scale()

# sin(2 pi k / 256) in Q15 for k = 0..191 (int16 little-endian; cos(x) = sin(x + 64)). Entry 64 (1.0) is never
# read: butterflies with twiddle 1 or -j are done exactly.
TWIDDLE = (
    b"\x00\x00\x24\x03\x48\x06\x6b\x09\x8c\x0c\xab\x0f\xc8\x12\xe2\x15\xf9\x18\x0c\x1c\x1a\x1f\x24\x22"
    b"\x28\x25\x27\x28\x1f\x2b\x11\x2e\xfc\x30\xdf\x33\xba\x36\x8d\x39\x57\x3c\x17\x3f\xce\x41\x7b\x44"
    b"\x1d\x47\xb4\x49\x40\x4c\xc0\x4e\x34\x51\x9b\x53\xf6\x55\x43\x58\x82\x5a\xb4\x5c\xd7\x5e\xec\x60"
    b"\xf2\x62\xe9\x64\xd0\x66\xa7\x68\x6e\x6a\x24\x6c\xca\x6d\x5f\x6f\xe3\x70\x55\x72\xb6\x73\x05\x75"
    b"\x42\x76\x6c\x77\x85\x78\x8a\x79\x7d\x7a\x5d\x7b\x2a\x7c\xe4\x7c\x8a\x7d\x1e\x7e\x9d\x7e\x0a\x7f"
    b"\x62\x7f\xa7\x7f\xd9\x7f\xf6\x7f\xff\x7f\xf6\x7f\xd9\x7f\xa7\x7f\x62\x7f\x0a\x7f\x9d\x7e\x1e\x7e"
    b"\x8a\x7d\xe4\x7c\x2a\x7c\x5d\x7b\x7d\x7a\x8a\x79\x85\x78\x6c\x77\x42\x76\x05\x75\xb6\x73\x55\x72"
    b"\xe3\x70\x5f\x6f\xca\x6d\x24\x6c\x6e\x6a\xa7\x68\xd0\x66\xe9\x64\xf2\x62\xec\x60\xd7\x5e\xb4\x5c"
    b"\x82\x5a\x43\x58\xf6\x55\x9b\x53\x34\x51\xc0\x4e\x40\x4c\xb4\x49\x1d\x47\x7b\x44\xce\x41\x17\x3f"
    b"\x57\x3c\x8d\x39\xba\x36\xdf\x33\xfc\x30\x11\x2e\x1f\x2b\x27\x28\x28\x25\x24\x22\x1a\x1f\x0c\x1c"
    b"\xf9\x18\xe2\x15\xc8\x12\xab\x0f\x8c\x0c\x6b\x09\x48\x06\x24\x03\x00\x00\xdc\xfc\xb8\xf9\x95\xf6"
    b"\x74\xf3\x55\xf0\x38\xed\x1e\xea\x07\xe7\xf4\xe3\xe6\xe0\xdc\xdd\xd8\xda\xd9\xd7\xe1\xd4\xef\xd1"
    b"\x04\xcf\x21\xcc\x46\xc9\x73\xc6\xa9\xc3\xe9\xc0\x32\xbe\x85\xbb\xe3\xb8\x4c\xb6\xc0\xb3\x40\xb1"
    b"\xcc\xae\x65\xac\x0a\xaa\xbd\xa7\x7e\xa5\x4c\xa3\x29\xa1\x14\x9f\x0e\x9d\x17\x9b\x30\x99\x59\x97"
    b"\x92\x95\xdc\x93\x36\x92\xa1\x90\x1d\x8f\xab\x8d\x4a\x8c\xfb\x8a\xbe\x89\x94\x88\x7b\x87\x76\x86"
    b"\x83\x85\xa3\x84\xd6\x83\x1c\x83\x76\x82\xe2\x81\x63\x81\xf6\x80\x9e\x80\x59\x80\x27\x80\x0a\x80"
)
# 2**15 / sinc(h / 256)**4 for h = 1..31 (uint16): the cubic B-spline's response at order h, divided out.
DECONV = (
    b"\x03\x80\x0d\x80\x1e\x80\x35\x80\x52\x80\x77\x80\xa2\x80\xd3\x80\x0c\x81\x4b\x81\x91\x81\xde\x81"
    b"\x31\x82\x8c\x82\xee\x82\x56\x83\xc6\x83\x3d\x84\xbc\x84\x41\x85\xcf\x85\x64\x86\x00\x87\xa5\x87"
    b"\x51\x88\x05\x89\xc2\x89\x87\x8a\x54\x8b\x2a\x8c\x08\x8d"
)


@micropython.viper
def scale(g: ptr32, n: int) -> int:
    """Shift g[0..n-1] right (rounded) by the smallest s that brings every magnitude below 2**20; returns s."""
    h = int(SIGN_BIT)
    top = 0
    i = 0
    while i < n:  # the OR of the magnitudes has the largest one's top bit
        x = g[i]
        x = (x ^ h) - h
        if x < 0:
            x = 0 - x
        top = top | x
        i += 1
    s = 0
    while (top >> s) >= _TOP:
        s += 1
    if s > 0:
        r = 1 << (s - 1)
        i = 0
        while i < n:
            x = g[i]
            g[i] = (((x ^ h) - h) + r) >> s
            i += 1
    return s


@micropython.viper
def fft(z: ptr32, o: int, tw: ptr16, s0: int, s1: int):
    """Stages s0..s1-1 (of 8) of the forward FFT (sum z[k] exp(-2 pi j h k / 256)) of the 256 complex values at
    z[o..o+511] (re, im interleaved), in place, radix 2, decimation in time; stage 0 first puts them in
    bit-reversed order. Inputs below 2**20: no word overflows. Two calls (0..4, 4..8) halve the longest step."""
    h = int(SIGN_BIT)
    i = 0
    if s0 > 0:
        i = 256
    while i < 256:  # bit-reversed order
        r = ((i & 0x55) << 1) | ((i >> 1) & 0x55)
        r = ((r & 0x33) << 2) | ((r >> 2) & 0x33)
        r = ((r & 0x0F) << 4) | ((r >> 4) & 0x0F)
        if r > i:
            a = o + (i << 1)
            b = o + (r << 1)
            t = z[a]
            z[a] = z[b]
            z[b] = t
            t = z[a + 1]
            z[a + 1] = z[b + 1]
            z[b + 1] = t
        i += 1
    end = o + 512
    half = 1 << s0
    sh = 7 - s0  # twiddle index of butterfly j: j << sh (angle 2 pi j / size)
    while half < (1 << s1):
        stride = half << 2  # words from one butterfly of a group to the next
        off = half << 1  # words from the top input to the bottom one
        j = 0
        while j < half:
            q = j << sh
            p = o + (j << 1)
            if q == 0:  # twiddle 1
                while p < end:
                    b = p + off
                    br = z[b]
                    br = (br ^ h) - h
                    bi = z[b + 1]
                    bi = (bi ^ h) - h
                    ar = z[p]
                    ar = (ar ^ h) - h
                    ai = z[p + 1]
                    ai = (ai ^ h) - h
                    z[p] = ar + br
                    z[p + 1] = ai + bi
                    z[b] = ar - br
                    z[b + 1] = ai - bi
                    p += stride
            elif q == 64:  # twiddle -j: t = (bi, -br)
                while p < end:
                    b = p + off
                    br = z[b]
                    br = (br ^ h) - h
                    bi = z[b + 1]
                    bi = (bi ^ h) - h
                    ar = z[p]
                    ar = (ar ^ h) - h
                    ai = z[p + 1]
                    ai = (ai ^ h) - h
                    z[p] = ar + bi
                    z[p + 1] = ai - br
                    z[b] = ar - bi
                    z[b + 1] = ai + br
                    p += stride
            else:
                sn = int(tw[q])
                sn = (sn ^ 0x8000) - 0x8000
                cs = int(tw[q + 64])
                cs = (cs ^ 0x8000) - 0x8000
                while p < end:
                    b = p + off
                    br = z[b]
                    br = (br ^ h) - h
                    bi = z[b + 1]
                    bi = (bi ^ h) - h
                    # t = (br + j bi)(cs - j sn), each product x c / 2**15 as (x >> 15) c + ((x & 32767) c >> 15)
                    tr = ((br >> 15) * cs + (((br & 32767) * cs) >> 15)
                          + (bi >> 15) * sn + (((bi & 32767) * sn) >> 15))
                    ti = ((bi >> 15) * cs + (((bi & 32767) * cs) >> 15)
                          - (br >> 15) * sn - (((br & 32767) * sn) >> 15))
                    ar = z[p]
                    ar = (ar ^ h) - h
                    ai = z[p + 1]
                    ai = (ai ^ h) - h
                    z[p] = ar + tr
                    z[p + 1] = ai + ti
                    z[b] = ar - tr
                    z[b + 1] = ai - ti
                    p += stride
            j += 1
        half = half << 1
        sh -= 1


@micropython.viper
def unpack(z: ptr32, p: int, res: ptr32, dc: ptr16):
    """Pair p's spectrum Z = FFT(a + j b) -> the (C, S) sums of channels p (a) and p + 3 (b) at orders 1..31,
    C - j S = 2 A_h (or 2 B_h) times dc[h - 1] / 2**15, as 64-bit pairs at res[24 (h - 1) + 4 c]: C lo, C hi,
    S lo, S hi. 2 A_h = Z_h + conj(Z_-h), 2 B_h = -j (Z_h - conj(Z_-h)). Below 2**30.2 in magnitude."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    o = p << 9
    k = 1
    while k < 32:
        a = o + (k << 1)
        b = o + ((256 - k) << 1)
        zr = z[a]
        zr = (zr ^ h) - h
        zi = z[a + 1]
        zi = (zi ^ h) - h
        nr = z[b]
        nr = (nr ^ h) - h
        ni = z[b + 1]
        ni = (ni ^ h) - h
        c = int(dc[k - 1])
        r = 24 * (k - 1) + 4 * p
        x = zr + nr  # C of channel p
        x = (x >> 15) * c + (((x & 32767) * c) >> 15)
        res[r] = x & m
        res[r + 1] = 0 - int(x < 0)
        x = ni - zi  # S of channel p
        x = (x >> 15) * c + (((x & 32767) * c) >> 15)
        res[r + 2] = x & m
        res[r + 3] = 0 - int(x < 0)
        x = zi + ni  # C of channel p + 3
        x = (x >> 15) * c + (((x & 32767) * c) >> 15)
        res[r + 12] = x & m
        res[r + 13] = 0 - int(x < 0)
        x = zr - nr  # S of channel p + 3
        x = (x >> 15) * c + (((x & 32767) * c) >> 15)
        res[r + 14] = x & m
        res[r + 15] = 0 - int(x < 0)
        k += 1

# SPDX-License-Identifier: MIT
# Configuration, register bank and store: validation refuses bad values and changes nothing; records survive.
import os
from array import array

import micropython

from firmware import regmap
from firmware.config import Config
from firmware.regbank import RegisterBank
from firmware.store import Store
from firmware.modbus.codes import ILLEGAL_DATA_VALUE
from statedir import fresh


def _bank():
    cfg = Config(None)
    vals = array("f", [0.0] * regmap.N_MEAS)
    return cfg, vals, RegisterBank(cfg, vals)


def test_defaults_follow_manual():
    cfg = Config(None)
    assert cfg.get("Adr") == 1 and cfg.get("baud") == 96 and cfg.get("dATA") == 0
    assert cfg.get("SYSS") == 0 and cfg.get("Un") == 220 and cfg.get("In") == 5
    assert cfg.get("Pt_U") == 1 and cfg.get("Ct_I") == 1


def test_set_refuses_out_of_range():
    cfg = Config(None)
    v0 = cfg.version
    assert not cfg.set("Pt_U", 0) and not cfg.set("Pt_U", 10000) and not cfg.set("In", 2)
    assert not cfg.set("nonsense", 1)
    assert cfg.get("Pt_U") == 1 and cfg.get("In") == 5 and cfg.version == v0
    assert cfg.set("Pt_U", 9999) and cfg.get("Pt_U") == 9999 and cfg.dirty


def test_bank_image_mirrors_config_big_endian():
    cfg, vals, bank = _bank()
    assert bank.image[2 * 4] == 0 and bank.image[2 * 4 + 1] == 220  # Un = 220
    assert bank.kind[0] == 2 and bank.kind[regmap.MEAS_BASE] == 1 and bank.kind[regmap.N_CONFIG] == 1  # a gap: reads 0
    assert len(bank.kind) == regmap.block_end() and bank.find(regmap.block_end() - 1, 2) == -1
    assert bank.kind[regmap.BLOCK_END - 1] == 1 and len(bank.kind) == regmap.block_end()


def test_bank_write_all_or_nothing_allocation_free():
    cfg, vals, bank = _bank()
    src = bytearray([0x00, 0x64, 0x27, 0x10])  # Pt_U = 100, Ct_I = 10000 (out of range)
    micropython.heap_lock()
    try:
        r = bank.write(6, 2, src, 0)
        src[2], src[3] = 0x00, 0x50  # Ct_I = 80
        r2 = bank.write(6, 2, src, 0)
    finally:
        micropython.heap_unlock()
    assert r == -ILLEGAL_DATA_VALUE and r2 == 0
    assert cfg.get("Pt_U") == 100 and cfg.get("Ct_I") == 80
    assert bank.image[12] == 0 and bank.image[13] == 100


def test_publish_float32_high_word_first():
    cfg, vals, bank = _bank()
    vals[0] = 220.0  # 0x435C0000
    vals[regmap.N_MEAS - 1] = -1.5  # 0xBFC00000
    micropython.heap_lock()
    try:
        bank.publish()
    finally:
        micropython.heap_unlock()
    o = 2 * regmap.MEAS_BASE
    assert bytes(bank.image[o:o + 4]) == b"\x43\x5c\x00\x00"
    o = 2 * (regmap.MEAS_END - 2)
    assert bytes(bank.image[o:o + 4]) == b"\xbf\xc0\x00\x00"


def _tmpdir():
    return fresh("/tmp/kpm53_case_store")


def test_store_newest_intact_record_wins():
    d = _tmpdir()
    s = Store(d)
    s.save("cfg", b"one")
    s.save("cfg", b"two")
    s.save("cfg", b"three")
    assert Store(d).load("cfg") == b"three"
    # Tear the newest record (one byte of its data in the flash image: records of 18, 18, 20 bytes from offset 0,
    # data after an 8-byte header and the name): the previous record comes back, never garbage.
    with open(d + "/flash.bin", "r+b") as f:
        f.seek(36 + 8 + 3)
        f.write(b"X")
    assert Store(d).load("cfg") == b"two"
    # A fresh save goes after the torn record's sector, and is newest again.
    s2 = Store(d)
    s2.save("cfg", b"four")
    assert Store(d).load("cfg") == b"four"


def test_config_persists_across_restart():
    d = _tmpdir()
    cfg = Config(Store(d))
    assert cfg.set("Adr", 17) and cfg.set("SYSS", 2)
    cfg.save()
    again = Config(Store(d))
    assert again.get("Adr") == 17 and again.get("SYSS") == 2 and again.get("Un") == 220

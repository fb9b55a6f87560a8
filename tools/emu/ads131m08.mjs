// SPDX-License-Identifier: MIT
// ADS131M08 model for the emulated Pico: the 8-channel simultaneous-sampling ADC on SPI0 as the firmware sees it
// (boards/pico/ads131m08.py). Source: TI ADS131M08 datasheet (SBAS950), sections 8.5 "Programming" (SPI frames,
// commands, CRC) and 8.6 "Register Map".
//
// What is modelled, at the SPI word level:
// - frames of (response word, 8 channel words, CRC word); word length from MODE.WLENGTH (16, 24, or 32 bits with
//   zero padding); a frame is delimited by its byte count with CS held low (tied to GND on the board,
//   MODE.TIMEOUT set), or by CS rising when a `cs` pin is given (none by default);
// - commands NULL, RESET, STANDBY, WAKEUP, LOCK, UNLOCK, RREG (one register), WREG (n registers); the answer to a
//   command comes in the next frame's response word; the input CRC is checked when MODE.RX_CRC_EN is set (a bad
//   one sets STATUS.CRC_ERR and the command is ignored);
// - output CRC: CRC-16-CCITT (x^16 + x^12 + x^5 + 1, seed 0xFFFF) over every byte of the frame before the CRC word;
// - conversions at fCLKIN / 2 / OSR (8.192 MHz, CLOCK.OSR) of simulated time: each takes the next sample of the
//   host's generator (8 x int32 codes, saturated to 24 bits); DRDY (GP20) falls at each conversion and rises at the
//   first SCLK of a frame (level mode, MODE.DRDY_FMT = 0); a frame latches the newest conversion at its first byte
//   and its STATUS.DRDY[7:0] bits say whether that conversion is new (0xFF) or was already read (0x00);
// - the SYNC/RESET pin, when a `reset` pin is given (none by default: tied to DVDD on the board, the firmware
//   sends the RESET command), low resets the registers.
// Not modelled: the analog side (gain errors, noise: the generator does those), global chop, the current-detect
// mode, register-map CRC.
const CLKIN_HZ = 8192000;
const ID_ADS131M08 = 0x2800; // ID register: CHANCNT = 8
const RESET_ACK = 0xff28; // response to RESET (datasheet 8.5.1.10.2)
// register addresses and reset values (datasheet 8.6)
const REG = { ID: 0x00, STATUS: 0x01, MODE: 0x02, CLOCK: 0x03, GAIN1: 0x04, GAIN2: 0x05, CFG: 0x06 };
const DEFAULTS = { 0x00: ID_ADS131M08, 0x01: 0x0500, 0x02: 0x0510, 0x03: 0xff0e, 0x06: 0x0600 };
const MODE_RX_CRC_EN = 1 << 12;
const MODE_RESET = 1 << 10;
const MODE_TIMEOUT = 1 << 4;
const STATUS_CRC_ERR = 1 << 12;

export function crc16ccitt(bytes, start, end, crc = 0xffff) {
  for (let i = start; i < end; i++) {
    crc ^= bytes[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * Attach the model to mcu.spi[spi] and the pins. opts.samples(n) -> Buffer of n samples (8 x int32 LE each).
 * Returns { state(), inject(kind) } where inject('crc') corrupts the next frame's CRC and inject('skip') drops
 * the next conversion (no DRDY: the following frame repeats old data with DRDY bits 0).
 */
export function attachAds131m08(mcu, opts) {
  // CS and SYNC/RESET: GPIOs, or null where the board ties them (boards/pico/pins.py: CS to GND, RESET high)
  const pins = Object.assign({ spi: 0, cs: null, drdy: 20, reset: null }, opts.pins || {});
  const spi = mcu.spi[pins.spi];
  const regs = new Uint16Array(64);
  const st = { frames: 0, conversions: 0, stale_frames: 0, crc_errors_in: 0, resets: 0, bytes: 0,
    commands: 0, injected: 0, timeouts: 0 };
  let sample = new Int32Array(8); // newest conversion
  let fresh = false; // newest conversion not read yet
  let buf = null; // samples from the generator, in chunks
  let bufPos = 0;
  let running = false; // conversions on (out of reset)
  let out = new Uint8Array(40); // the frame being shifted out
  let inp = new Uint8Array(40); // the frame being shifted in
  let pos = 0; // byte position in the frame
  let pending = null; // response word for the next frame
  let corrupt = false;
  let skip = false;
  let drdyLevel = true;

  function reset() {
    regs.fill(0);
    for (const [a, v] of Object.entries(DEFAULTS)) regs[a] = v;
    pending = RESET_ACK;
    pos = 0;
    st.resets++;
  }
  const wordBytes = () => [2, 3, 4, 4][(regs[REG.MODE] >> 8) & 3];
  const frameBytes = () => 10 * wordBytes();
  function setDrdy(level) {
    if (level !== drdyLevel) {
      drdyLevel = level;
      mcu.gpio[pins.drdy].setInputValue(level);
    }
  }
  function putWord(a, off, v16or24, isData) {
    // a 16-bit response goes MSB-aligned with zero padding; data words are 24-bit two's complement, padded with
    // zeros (WLENGTH 2) or sign-extended (WLENGTH 3) in 32-bit mode
    const wb = wordBytes();
    const wl = (regs[REG.MODE] >> 8) & 3;
    let bytes;
    if (isData) {
      const v = v16or24 & 0xffffff;
      bytes = [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
      if (wb === 2) bytes = bytes.slice(0, 2);
      else if (wb === 4) bytes = wl === 3 ? [(v & 0x800000) ? 0xff : 0, ...bytes] : [...bytes, 0];
    } else {
      bytes = [(v16or24 >> 8) & 0xff, v16or24 & 0xff];
      while (bytes.length < wb) bytes.push(0);
    }
    for (let i = 0; i < wb; i++) a[off + i] = bytes[i];
  }
  function latchFrame() {
    // first SCLK of a frame: response word, the newest conversion, the CRC
    const wb = wordBytes();
    let status = regs[REG.STATUS] & ~0xff;
    if (fresh) status |= 0xff;
    else st.stale_frames++;
    regs[REG.STATUS] = status;
    const resp = pending !== null ? pending : status;
    pending = null;
    putWord(out, 0, resp, false);
    for (let c = 0; c < 8; c++) putWord(out, wb * (1 + c), sample[c], true);
    let crc = crc16ccitt(out, 0, 9 * wb);
    if (corrupt) { crc ^= 0x0001; corrupt = false; st.injected++; }
    putWord(out, 9 * wb, crc, false);
    fresh = false;
    regs[REG.STATUS] &= ~0xff;
    setDrdy(true);
    st.frames++;
  }
  function endFrame() {
    // the whole frame is in: decode the command (first word), its data and CRC
    const wb = wordBytes();
    const word = (k) => (inp[k * wb] << 8) | inp[k * wb + 1];
    const cmd = word(0);
    let nwords = 1;
    let op = null;
    if ((cmd & 0xe000) === 0x6000) { op = 'wreg'; nwords += (cmd & 0x7f) + 1; }
    else if ((cmd & 0xe000) === 0xa000) op = 'rreg';
    else if (cmd === 0x0011) op = 'reset';
    else if (cmd === 0x0022 || cmd === 0x0033 || cmd === 0x0555 || cmd === 0x0655) op = 'other';
    if (op === null) return; // NULL (or unknown): nothing
    st.commands++;
    if (regs[REG.MODE] & MODE_RX_CRC_EN) {
      const want = crc16ccitt(inp, 0, nwords * wb);
      if (word(nwords) !== want) {
        regs[REG.STATUS] |= STATUS_CRC_ERR;
        st.crc_errors_in++;
        return;
      }
    }
    regs[REG.STATUS] &= ~STATUS_CRC_ERR;
    const addr = (cmd >> 7) & 0x3f;
    if (op === 'reset') { reset(); return; }
    if (op === 'rreg') { pending = regs[addr]; return; }
    if (op === 'wreg') {
      for (let k = 0; k < nwords - 1; k++) {
        const a = addr + k;
        if (a === REG.ID || a === REG.STATUS) continue; // read-only
        let v = word(1 + k);
        if (a === REG.MODE) v = (v & ~MODE_RESET) | (regs[a] & MODE_RESET & v); // RESET flag: write 0 clears
        regs[a] = v;
      }
      pending = 0x4000 | (addr << 7) | (nwords - 2);
    }
  }
  let lastByteNs = 0;
  spi.onTransmit = (value) => {
    if (!running) { spi.completeTransmit(0xff); return; }
    const now = mcu.clock.nanos;
    // MODE.TIMEOUT: 2**14 CLKIN periods (2 ms) without SCLK end a frame cut short (CS held low)
    if (pos !== 0 && (regs[REG.MODE] & MODE_TIMEOUT) && now - lastByteNs > (16384 * 1e9) / CLKIN_HZ) {
      pos = 0;
      st.timeouts++;
    }
    lastByteNs = now;
    if (pos === 0) latchFrame();
    inp[pos] = value & 0xff;
    const rx = out[pos];
    st.bytes++;
    pos++;
    if (pos >= frameBytes()) { endFrame(); pos = 0; }
    spi.completeTransmit(rx);
  };
  if (pins.cs != null) {
    mcu.gpio[pins.cs].addListener((value) => {
      if (value === 1 && pos !== 0) pos = 0; // CS high: the frame is over (an incomplete one is dropped)
    });
  }
  if (pins.reset != null) {
    mcu.gpio[pins.reset].addListener((value) => {
      if (value === 0) { running = false; setDrdy(true); }
      else if (value === 1 && !running) { reset(); running = true; }
    });
  }

  function nextSample() {
    if (!buf || bufPos >= buf.length) {
      buf = opts.samples(80);
      bufPos = 0;
      if (!buf || !buf.length) return;
    }
    const dv = new DataView(buf.buffer, buf.byteOffset + bufPos, 32);
    for (let c = 0; c < 8; c++) {
      const v = dv.getInt32(4 * c, true);
      sample[c] = v > 0x7fffff ? 0x7fffff : v < -0x800000 ? -0x800000 : v;
    }
    bufPos += 32;
  }
  // conversions: every 2 * OSR CLKIN periods (CLOCK.OSR[4:2]: 0 = 128 ... 7 = 16384; 3-bit code, datasheet 8.6)
  const alarm = mcu.clock.createAlarm(convert);
  function periodNs() {
    const code = (regs[REG.CLOCK] >> 2) & 7;
    const osr = 128 << code;
    return (2 * osr * 1e9) / CLKIN_HZ;
  }
  function convert() {
    alarm.schedule(periodNs());
    if (!running) return;
    if (skip) { skip = false; st.injected++; return; }
    nextSample();
    st.conversions++;
    fresh = true;
    setDrdy(true); // a new conversion: DRDY falls (from high, or after a blip when the last one was not read)
    setDrdy(false);
  }
  reset();
  running = true;
  alarm.schedule(periodNs());
  return {
    state: () => Object.assign({ drdy: drdyLevel, mode: regs[REG.MODE], clock: regs[REG.CLOCK] }, st),
    inject(kind) {
      if (kind === 'crc') corrupt = true;
      else if (kind === 'skip') skip = true;
      else throw new Error(`ads131m08: unknown fault ${kind}`);
    },
  };
}

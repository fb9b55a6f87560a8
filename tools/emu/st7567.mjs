// SPDX-License-Identifier: MIT
// The front panel's LCD in the emulator: an ST7567 128x64 controller (Sitronix datasheet V1.4b, "Instruction
// Table") on rp2040js's SPI1 with CS, A0 (DC) and RST on GPIOs (boards/pico/pins.py LCD_SPI). Bytes sent with CS
// low are commands (DC low) or display data (DC high); the model keeps the 9 x 132 display RAM, the addressing
// (page, column with auto-increment, read-modify-write), display on/off, start line, SEG/COM direction, inverse,
// all-pixels-on, electronic volume, power control and reset (RST pin low or command E2).
// The glass is the common 12864 COG module: upright with SEG normal (A0) and COM reversed (C8), columns 0..127.
//
//   const lcd = attachSt7567(mcu, { spi: 1, cs: 13, dc: 14, rst: 15, backlight: 12 });
//   lcd.text()  -> 8 lines of 16 characters read back off the glass in MicroPython's 8x8 font ('?' unreadable)
//   lcd.frame() -> the glass as a 1024-byte MONO_VLSB frame buffer; lcd.backlight() -> the backlight pin is high
//   lcd.png(path)  -> the glass at 4x, dark dots on a green-grey LCD, dimmed while the backlight pin is low
//   lcd.state() -> { on, contrast, backlight, inverted_cells: [[row, col]...], frames, ... }
import fs from 'fs';
import zlib from 'zlib';
import { FONT8X8 } from './font8x8.mjs';

const COLS = 132; // display RAM columns
const PAGES = 9; // 8 pages of 8 rows + the icon page 8
const W = 128;
const H = 64;
export const LCD_PINS = { spi: 1, cs: 13, dc: 14, rst: null, backlight: 12 }; // boards/pico/pins.py LCD_SPI

// glyph (8 column bytes as a string key) -> character; 127 (what framebuf draws for c < 32 or > 127) is left out
const GLYPHS = new Map();
for (let c = 32; c < 127; c++) {
  const k = FONT8X8[c - 32].join(',');
  if (!GLYPHS.has(k)) GLYPHS.set(k, String.fromCharCode(c));
}

export function attachSt7567(mcu, pins = LCD_PINS) {
  const ram = new Uint8Array(PAGES * COLS);
  const st = {};
  let arg = null; // a two-byte command waiting for its second byte: 'ev' | 'booster'
  let rmwCol = -1;
  let frames = 0;
  let bytes = 0;
  let unknown = 0;

  function softReset() { // datasheet (14) RESET: start line, column, page, COM direction, ratio, volume
    st.startLine = 0;
    st.column = 0;
    st.page = 0;
    st.comReverse = false;
    st.ratio = 0;
    st.ev = 0x20;
    arg = null;
    rmwCol = -1;
  }
  function hardReset() { // RST low: everything to its default, the RAM undefined (kept here)
    softReset();
    st.on = false;
    st.segReverse = false;
    st.inverse = false;
    st.allOn = false;
    st.bias = 9;
    st.power = 0;
    st.booster = 0;
  }
  hardReset();

  const pin = (n) => mcu.gpio[n];
  const low = (n) => pin(n).outputEnable && !pin(n).outputValue; // undriven pins float high (pull-ups)
  // RST: a GPIO, or null where the board ties it to its reset line (the chip then resets with the emulated MCU)
  const inReset = () => pins.rst != null && low(pins.rst);
  if (pins.rst != null) pin(pins.rst).addListener(() => { if (low(pins.rst)) hardReset(); });

  function command(b) {
    if (arg === 'ev') { st.ev = b & 0x3f; arg = null; return; }
    if (arg === 'booster') { st.booster = b & 1; arg = null; return; }
    if (b === 0xae || b === 0xaf) st.on = b === 0xaf; // (1) Display ON/OFF
    else if ((b & 0xc0) === 0x40) st.startLine = b & 0x3f; // (2) Set Start Line
    else if ((b & 0xf0) === 0xb0) st.page = Math.min(b & 0x0f, PAGES - 1); // (3) Set Page Address
    else if ((b & 0xf0) === 0x10) st.column = ((b & 0x0f) << 4) | (st.column & 0x0f); // (4) column high
    else if ((b & 0xf0) === 0x00) st.column = (st.column & 0xf0) | (b & 0x0f); // (4) column low
    else if (b === 0xa0 || b === 0xa1) st.segReverse = b === 0xa1; // (8) SEG Direction
    else if (b === 0xa6 || b === 0xa7) st.inverse = b === 0xa7; // (9) Inverse Display
    else if (b === 0xa4 || b === 0xa5) st.allOn = b === 0xa5; // (10) All Pixel ON
    else if (b === 0xa2 || b === 0xa3) st.bias = b === 0xa2 ? 9 : 7; // (11) Bias Select
    else if (b === 0xe0) rmwCol = st.column; // (12) Read-modify-Write
    else if (b === 0xee) { if (rmwCol >= 0) st.column = rmwCol; rmwCol = -1; } // (13) END
    else if (b === 0xe2) softReset(); // (14) RESET
    else if ((b & 0xf0) === 0xc0) st.comReverse = !!(b & 0x08); // (15) COM Direction
    else if ((b & 0xf8) === 0x28) st.power = b & 7; // (16) Power Control: VB VR VF
    else if ((b & 0xf8) === 0x20) st.ratio = b & 7; // (17) Regulation Ratio
    else if (b === 0x81) arg = 'ev'; // (18) Set EV
    else if (b === 0xf8) arg = 'booster'; // (19) Set Booster
    else if (b === 0xe3) { /* (20) NOP */ } else unknown++;
  }
  function data(b) {
    if (st.column < COLS) {
      ram[st.page * COLS + st.column] = b;
      if (st.page === PAGES - 2 && st.column === (st.segReverse ? COLS - 1 : W - 1)) frames++;
      st.column++; // stops past the last column (131)
    }
  }

  // A byte is taken when its transfer starts (CS and DC as they are then) and completes one frame time later
  // at the programmed SCK rate: completing at once would let a TX DMA run ahead of the RX DMA that MicroPython's
  // SPI.write pairs with it (transfers of 32 bytes or more), overflow the 8-entry RX FIFO and hang the write.
  const spi = mcu.spi[pins.spi];
  const prev = spi.onTransmit;
  const done = mcu.clock.createAlarm(() => spi.completeTransmit(0xff));
  spi.onTransmit = (value) => {
    if (low(pins.cs) && !inReset()) {
      bytes++;
      if (low(pins.dc)) command(value & 0xff); else data(value & 0xff);
    }
    const hz = spi.clockFrequency;
    if (hz) done.schedule(Math.round(8e9 / hz)); else prev(value);
  };

  // the pixel the glass shows at (x, y): RAM through start line, COM/SEG direction, inverse, all-on, on/off
  function pixel(x, y) {
    if (!st.on) return 0;
    if (st.allOn) return 1;
    const line = (st.startLine + (st.comReverse ? y : H - 1 - y)) & 63;
    const col = st.segReverse ? COLS - 1 - x : x;
    const bit = (ram[(line >> 3) * COLS + col] >> (line & 7)) & 1;
    return st.inverse ? bit ^ 1 : bit;
  }
  function cells() { // [rows of 16 characters, inverted cells]
    const rows = [];
    const inverted = [];
    for (let r = 0; r < H / 8; r++) {
      let line = '';
      for (let c = 0; c < W / 8; c++) {
        const cols = [];
        for (let x = 0; x < 8; x++) {
          let v = 0;
          for (let y = 0; y < 8; y++) v |= pixel(c * 8 + x, r * 8 + y) << y;
          cols.push(v);
        }
        let ch = GLYPHS.get(cols.join(','));
        if (ch === undefined) {
          ch = GLYPHS.get(cols.map((v) => v ^ 0xff).join(','));
          if (ch !== undefined) inverted.push([r, c]);
        }
        line += ch === undefined ? '?' : ch;
      }
      rows.push(line);
    }
    return [rows, inverted];
  }
  const backlight = () => pin(pins.backlight).outputEnable && pin(pins.backlight).outputValue;

  return {
    // the glass as a 128x64 MONO_VLSB frame buffer (byte (y >> 3) * 128 + x, bit y & 7): what the panel shows,
    // through the same pixel() as text() and png(), so display off, inverse and the directions count
    frame() {
      const buf = Buffer.alloc(W * H / 8);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) if (pixel(x, y)) buf[(y >> 3) * W + x] |= 1 << (y & 7);
      }
      return buf;
    },
    backlight: () => !!backlight(),
    text() {
      return cells()[0].map((r) => r.trimEnd()).join('\n') + '\n';
    },
    state() {
      return { on: st.on, contrast: st.ev, backlight: !!backlight(), inverted_cells: cells()[1], frames,
        power: st.power, ratio: st.ratio, bias: st.bias, start_line: st.startLine, inverse: st.inverse,
        all_on: st.allOn, seg_reverse: st.segReverse, com_reverse: st.comReverse, bytes, unknown };
    },
    png(path) {
      const S = 4;
      const lit = !!backlight();
      // the glass: green-grey when lit, darker without backlight; dots darker with more electronic volume
      const bg = lit ? [0x9c, 0xb8, 0x6c] : [0x4a, 0x55, 0x3a];
      const k = 0.55 + 0.45 * (st.ev / 63);
      const fg = bg.map((v) => Math.round(v * (1 - k) + 0x10 * k));
      const stride = 1 + W * S * 3;
      const raw = Buffer.alloc(stride * H * S);
      for (let y = 0; y < H * S; y++) {
        raw[y * stride] = 0; // filter: none
        for (let x = 0; x < W * S; x++) {
          const c = pixel(Math.floor(x / S), Math.floor(y / S)) ? fg : bg;
          raw.set(c, y * stride + 1 + x * 3);
        }
      }
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(W * S, 0);
      ihdr.writeUInt32BE(H * S, 4);
      ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
      fs.writeFileSync(path, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
    },
    ram,
  };
}

let CRC_TABLE = null;
function crc32(buf) {
  if (!CRC_TABLE) {
    CRC_TABLE = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c;
    }
  }
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, body) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

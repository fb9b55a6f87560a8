// SPDX-License-Identifier: MIT
// The emulated Pico shared by emu.mjs's two modes (script runner, device): rp2040js with the bootrom, the UF2
// loaded into flash, the gaps closed (fixes.mjs), the sample generator on two pipes, the host port, and the
// slice loop that executes instructions and skips ahead while the core sleeps (WFI/WFE).
import fs from 'fs';
import { Simulator, ConsoleLogger, LogLevel } from 'rp2040js';
import { fileURLToPath } from 'url';
import * as fixes from './fixes.mjs';

export const FS_OFFSET = 0xa0000; // RPI_PICO: 2 MiB flash, the last 1408 KiB are the storage region
export const FS_BYTES = 1408 * 1024; // littlefs (1136 KiB) + the event log (16 KiB) + the meter's raw store partition (256 KiB)
export const NS_PER_CYCLE = 8; // 125 MHz
// boards/pico/pins.py, as the host sees the board (device mode takes the map itself: --pins, applyPinMap)
export const PINS = {
  keys: { left: 3, up: 4, down: 5, right: 6, enter: 7 }, // active low
  relays: [8, 9], // DO1 DO2, high = closed
  inputs: [26, 27], // DI1 DI2, low = contact closed
  pulses: [28, 17], // active (PULSE_P) and reactive (PULSE_Q) energy pulses
  ao: 15, // 4-20 mA output: PWM duty
  powerFail: 22, // low = supply collapsing
  rs485: { uart: 0, tx: 0, rx: 1, de: 2 },
};

// pins.py's names (KEYS RELAYS INPUTS PULSE_P PULSE_Q AO_PWM POWER_FAIL RS485), as JSON, over the defaults
export function applyPinMap(m) {
  if (m.KEYS) PINS.keys = m.KEYS;
  if (m.RELAYS) PINS.relays = m.RELAYS;
  if (m.INPUTS) PINS.inputs = m.INPUTS;
  if (m.PULSE_P !== undefined) PINS.pulses = [m.PULSE_P, ...(m.PULSE_Q !== undefined ? [m.PULSE_Q] : [])];
  if (m.AO_PWM !== undefined) PINS.ao = m.AO_PWM;
  if (m.POWER_FAIL !== undefined) PINS.powerFail = m.POWER_FAIL;
  if (m.RS485) PINS.rs485 = m.RS485;
}

function loadUf2(mcu, file) {
  const buf = fs.readFileSync(file);
  let bytes = 0;
  for (let off = 0; off + 512 <= buf.length; off += 512) {
    const block = new DataView(buf.buffer, buf.byteOffset + off, 512);
    if (block.getUint32(0, true) !== 0x0a324655 || block.getUint32(4, true) !== 0x9e5d5157) continue;
    const target = block.getUint32(12, true);
    const size = block.getUint32(16, true);
    mcu.flash.set(buf.subarray(off + 32, off + 32 + size), target - 0x10000000);
    bytes += size;
  }
  return bytes;
}

// The sample generator (tools/emu/feeder.py) on two pipes: "b N\n" -> N*32 bytes, "s K\n" -> nothing,
// "j JSON\n" -> one line "ok" or "ERR reason".
export class Feeder {
  constructor(fdIn, fdOut) {
    this.fdIn = fdIn;
    this.fdOut = fdOut;
  }
  get present() {
    return this.fdIn !== undefined;
  }
  request(line, bytes) {
    fs.writeSync(this.fdOut, line);
    if (!bytes) return null;
    const buf = Buffer.alloc(bytes);
    let got = 0;
    while (got < bytes) {
      const r = fs.readSync(this.fdIn, buf, got, bytes - got, null);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got - (got % 32));
  }
  samples(n) {
    return this.request(`b ${n}\n`, n * 32);
  }
  // a scenario in its JSON form (one line); returns null when the feeder took it, else its reason
  scenario(json) {
    fs.writeSync(this.fdOut, `j ${json.replace(/\n/g, ' ')}\n`);
    let line = '';
    const b = Buffer.alloc(1);
    while (fs.readSync(this.fdIn, b, 0, 1, null) === 1 && b[0] !== 10) line += String.fromCharCode(b[0]);
    return line === 'ok' ? null : line.replace(/^ERR /, '') || 'the feeder stopped';
  }
}

// opt: uf2, bootrom (module URL), fs (littlefs image, read at boot), state (a file the storage region lives in:
// loaded at boot, every erase/program written through), serviceMode (ENTER held at power-up), samplesIn/Out,
// adc (true: attach the ADS131M08 model; 'auto': if its file exists), flash (the whole flash, after a reset).
export async function createChip(opt) {
  const { bootromB1 } = await import(opt.bootrom);
  const sim = new Simulator();
  const mcu = sim.rp2040;
  mcu.loadBootrom(bootromB1);
  mcu.logger = new ConsoleLogger(LogLevel.Error);
  const chip = { sim, mcu, wall0: Date.now(), exitCode: null, exitAt: 0, marks: [], stateFd: null };
  chip.imageBytes = loadUf2(mcu, opt.uf2);
  if (opt.fs && fs.existsSync(opt.fs)) mcu.flash.set(fs.readFileSync(opt.fs).subarray(0, FS_BYTES), FS_OFFSET);
  let onWrite = null;
  if (opt.state) {
    if (fs.existsSync(opt.state)) {
      const data = fs.readFileSync(opt.state);
      mcu.flash.set(data.subarray(0, FS_BYTES), FS_OFFSET);
    }
    chip.stateFd = fs.openSync(opt.state, fs.existsSync(opt.state) ? 'r+' : 'w+');
    // the whole region once (a new file, or one of another size), then each write as the chip makes it
    if (fs.fstatSync(chip.stateFd).size !== FS_BYTES) {
      fs.writeSync(chip.stateFd, mcu.flash, FS_OFFSET, FS_BYTES, 0);
      fs.ftruncateSync(chip.stateFd, FS_BYTES);
    }
    onWrite = (offset, length) => {
      const a = Math.max(offset, FS_OFFSET);
      const b = Math.min(offset + length, FS_OFFSET + FS_BYTES);
      if (b > a) fs.writeSync(chip.stateFd, mcu.flash, a, b - a, a - FS_OFFSET);
    };
  }
  if (opt.flash) mcu.flash.set(opt.flash); // a reset: the flash as the previous chip left it
  mcu.core.PC = 0x10000000;
  chip.flashStats = fixes.attachFlash(mcu, onWrite);
  for (const u of mcu.uart) fixes.fixUartTx(u);
  if (fixes.fixDmaTimers) fixes.fixDmaTimers(mcu);
  fixes.fixPadLoopback(mcu);
  fixes.fixSpiPacing(mcu); // before the device models, which take SPI0/SPI1 over
  for (const k of Object.values(PINS.keys)) mcu.gpio[k].setInputValue(!(opt.serviceMode && k === PINS.keys.enter));
  // the switch inputs DI1/DI2 open (high) and the supply monitor content (power-fail input high)
  for (const k of [...PINS.inputs, PINS.powerFail]) mcu.gpio[k].setInputValue(true);
  chip.feeder = new Feeder(opt.samplesIn, opt.samplesOut);
  // the ADS131M08 on SPI0 (opt.adc): conversions from the feeder at 8000/s of simulated time
  chip.adc = null;
  if (opt.adc) {
    const mod = await optionalModel('./ads131m08.mjs');
    if (!mod && opt.adc !== 'auto') throw new Error('the ADC model tools/emu/ads131m08.mjs is missing');
    const samples = (n) => (chip.feeder.present ? chip.feeder.samples(n) : Buffer.alloc(n * 32));
    if (mod) chip.adc = mod.attachAds131m08(mcu, { samples });
  }
  attachHostPort(chip);
  return chip;
}

// a device model of this directory, or null when its file does not exist (yet)
export async function optionalModel(file) {
  const url = new URL(file, import.meta.url);
  return fs.existsSync(fileURLToPath(url)) ? import(url) : null;
}

// ---- host port: a hole in the APB map at 0x40068000 (docs/device.md) ----
function attachHostPort(chip) {
  const { mcu } = chip;
  let sampleAddr = 0;
  let lastFilled = 0;
  function fillSamples(n) {
    if (!chip.feeder.present) {
      process.stderr.write('emu: the guest asked for samples (host port 0x1C) but no scenario was given (--scenario)\n');
      chip.exitCode = 2;
      return;
    }
    const data = chip.feeder.samples(n);
    mcu.sram.set(data, sampleAddr - 0x20000000);
    lastFilled = data.length / 32;
  }
  mcu.peripherals[0x40068] = {
    readUint32(off) {
      if (off === 0x00) return mcu.core.cycles >>> 0;
      if (off === 0x04) return Math.floor(mcu.core.cycles / 4294967296) >>> 0;
      if (off === 0x10) return Math.floor(mcu.clock.nanos / 1000) >>> 0;
      if (off === 0x1c) return lastFilled;
      if (off === 0x24 && chip.adc) return chip.adc.state().conversions >>> 0;
      return 0;
    },
    writeUint32(off, value) {
      if (off === 0x08) {
        chip.marks.push({ value, cycles: mcu.core.cycles });
        process.stderr.write(`MARK ${value} cycles=${mcu.core.cycles}\n`);
      } else if (off === 0x0c) {
        chip.exitCode = value;
        chip.exitAt = mcu.clock.nanos;
      } else if (off === 0x18) sampleAddr = value >>> 0;
      else if (off === 0x1c) fillSamples(value);
      else if (off === 0x20 && chip.feeder.present) chip.feeder.request(`s ${value}\n`, 0);
      else if (off === 0x24 && chip.adc) chip.adc.inject(['crc', 'skip'][value]); // ADC fault: bad CRC, no DRDY
    },
    writeUint32Atomic(off, value) {
      this.writeUint32(off, value);
    },
  };
}

// Simulator.execute's loop: run until `maxCycles` more cycles of simulated time have passed or the clock reaches
// `untilNanos`. While the core sleeps (WFI/WFE) the clock jumps to the next alarm (timer, UART byte, key...),
// never past untilNanos. mcu.busyNanos adds up the simulated time the core was awake (the CPU load), mcu.waitNanos
// and mcu.waits the time it slept and the sleeps' count. Returns the simulated nanoseconds that passed.
export function runFor(mcu, maxCycles, untilNanos = Infinity) {
  const { core, clock } = mcu;
  const start = clock.nanos;
  const end = Math.min(start + maxCycles * NS_PER_CYCLE, untilNanos);
  let busy = 0;
  while (clock.nanos < end && !mcu.stop) { // stop: the chip is being reset (device mode's watchdog)
    if (core.waiting) {
      const left = end - clock.nanos;
      const ns = !clock.nextAlarm ? left : Math.max(0, Math.min(clock.nanosToNextAlarm, left));
      mcu.waitNanos = (mcu.waitNanos || 0) + ns; // simulated time the core slept (WFI/WFE)
      mcu.waits = (mcu.waits || 0) + 1;
      clock.tick(ns);
    } else {
      const ns = core.executeInstruction() * NS_PER_CYCLE;
      busy += ns;
      clock.tick(ns);
    }
  }
  mcu.busyNanos = (mcu.busyNanos || 0) + busy;
  return clock.nanos - start;
}

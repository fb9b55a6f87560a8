#!/usr/bin/env node
// The emulated Raspberry Pi Pico: rp2040js running a MicroPython UF2, with the gaps closed (fixes.mjs), a
// host port the guest can read cycles from, and scripts run through the raw REPL. Driven by tools/emu/__init__.py.
//
//   node emu.mjs --uf2 F --bootrom F [--fs IMG] [--save-fs IMG] [--run SCRIPT]... [--timeout S]
//                [--samples-in FD --samples-out FD] [--stats-json F] [--service-mode] [--lcd-text F] [--lcd-png F]
//
// Host port (a hole in the APB map at 0x40068000; word accesses from the guest with machine.mem32):
//   +0x00 R  emulated CPU cycles, low 32 bits       +0x04 R  high bits (cycles / 2**32)
//   +0x08 W  mark: logged on stderr with cycles     +0x0C W  exit with this code (output drains 20 ms first)
//   +0x10 R  simulated time, microseconds (low 32)
//   +0x18 W  sample buffer address                  +0x1C W  fill it with N samples (8 x int32 each) from the
//                                                             host's generator; R: samples filled last time
//   +0x20 W  switch the generator to scenario K (index into the list the host was given)
//   +0x24 R  ADC model conversions so far (--adc)    W  inject an ADC fault: 0 bad CRC, 1 a missed conversion
// The generator is a host process on two pipes: we write "b N\n" / "s K\n", it answers N*32 bytes / nothing.
// Front-panel keys (GP3..GP7, active low) are held released; with --service-mode ENTER is held at power-up,
// which the board's main.py takes as "stay at the REPL", and released once the prompt is up.
import fs from 'fs';
import { Simulator, USBCDC, ConsoleLogger, LogLevel } from 'rp2040js';
import { attachFlash, fixDmaTimers, fixUartTx } from './fixes.mjs';
import { attachAds131m08 } from './ads131m08.mjs';

const args = process.argv.slice(2);
const opt = { run: [], timeout: 600 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => args[++i];
  if (a === '--uf2') opt.uf2 = next();
  else if (a === '--bootrom') opt.bootrom = next();
  else if (a === '--fs') opt.fs = next();
  else if (a === '--save-fs') opt.saveFs = next();
  else if (a === '--run') opt.run.push(next());
  else if (a === '--timeout') opt.timeout = Number(next());
  else if (a === '--samples-in') opt.samplesIn = Number(next());
  else if (a === '--samples-out') opt.samplesOut = Number(next());
  else if (a === '--stats-json') opt.statsJson = next();
  else if (a === '--service-mode') opt.serviceMode = true;
  else if (a === '--adc') opt.adc = true;
  else if (a === '--lcd-text') opt.lcdText = next(); // panel LCD (st7567.mjs): text read back at the end
  else if (a === '--lcd-png') opt.lcdPng = next(); // ... and its picture
  else { process.stderr.write(`emu: unknown argument ${a}\n`); process.exit(2); }
}

const FS_OFFSET = 0xa0000; // RPI_PICO: 2 MiB flash, the last 1408 KiB are the littlefs filesystem
const FS_BYTES = 1408 * 1024;
const KEYS = [3, 4, 5, 6, 7]; // boards/pico/pins.py KEYS: left up down right enter
const KEY_ENTER = 7;
const NS_PER_CYCLE = 8; // 125 MHz

const { bootromB1 } = await import(opt.bootrom);
const sim = new Simulator();
const mcu = sim.rp2040;
mcu.loadBootrom(bootromB1);
mcu.logger = new ConsoleLogger(LogLevel.Error);

function loadUf2(file) {
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
const wall0 = Date.now();
const imageBytes = loadUf2(opt.uf2);
if (opt.fs && fs.existsSync(opt.fs)) mcu.flash.set(fs.readFileSync(opt.fs).subarray(0, FS_BYTES), FS_OFFSET);
mcu.core.PC = 0x10000000;
const flashStats = attachFlash(mcu);
for (const u of mcu.uart) fixUartTx(u);
fixDmaTimers(mcu);
for (const k of KEYS) mcu.gpio[k].setInputValue(!(opt.serviceMode && k === KEY_ENTER));
// the switch inputs DI1/DI2 open (GP26/27 high) and the supply monitor content (GP22 high): boards/pico/pins.py
for (const k of [22, 26, 27]) mcu.gpio[k].setInputValue(true);
// ---- panel LCD (tools/emu/st7567.mjs): --lcd-text / --lcd-png; its state goes into the stats as "lcd" ----
// with --adc the whole board is there: the display too (an SPI1 without a device would hang DMA writes)
const lcd = opt.lcdText || opt.lcdPng || opt.adc ? (await import('./st7567.mjs')).attachSt7567(mcu) : null;

// ---- the sample generator on two pipes ----
let sampleAddr = 0;
let lastFilled = 0;
function generatorRequest(line, bytes) {
  fs.writeSync(opt.samplesOut, line);
  if (!bytes) return null;
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    const r = fs.readSync(opt.samplesIn, buf, got, bytes - got, null);
    if (r === 0) break;
    got += r;
  }
  return buf.subarray(0, got - (got % 32));
}
function fillSamples(n) {
  if (opt.samplesIn === undefined) {
    process.stderr.write('emu: the guest asked for samples (host port 0x1C) but no scenario was given (--scenario)\n');
    exitCode = 2;
    return;
  }
  const data = generatorRequest(`b ${n}\n`, n * 32);
  const base = sampleAddr - 0x20000000;
  mcu.sram.set(data, base);
  lastFilled = data.length / 32;
}

// ---- the ADS131M08 on SPI0 (--adc): conversions from the generator, 8000/s of simulated time ----
let adc = null;
if (opt.adc) {
  if (opt.samplesIn === undefined) {
    process.stderr.write('emu: --adc needs a scenario (--samples-in/--samples-out)\n');
    process.exit(2);
  }
  adc = attachAds131m08(mcu, { samples: (n) => generatorRequest(`b ${n}\n`, n * 32) });
}

// ---- host port ----
let exitCode = null;
let exitAt = 0; // simulated time of the exit request: what the guest printed before it still drains for 20 ms
const marks = [];
mcu.peripherals[0x40068] = {
  readUint32(off) {
    if (off === 0x00) return mcu.core.cycles >>> 0;
    if (off === 0x04) return Math.floor(mcu.core.cycles / 4294967296) >>> 0;
    if (off === 0x10) return Math.floor(mcu.clock.nanos / 1000) >>> 0;
    if (off === 0x1c) return lastFilled;
    if (off === 0x24 && adc) return adc.state().conversions >>> 0;
    return 0;
  },
  writeUint32(off, value) {
    if (off === 0x08) {
      marks.push({ value, cycles: mcu.core.cycles });
      process.stderr.write(`MARK ${value} cycles=${mcu.core.cycles}\n`);
    } else if (off === 0x0c) {
      exitCode = value;
      exitAt = mcu.clock.nanos;
    }
    else if (off === 0x18) sampleAddr = value >>> 0;
    else if (off === 0x1c) fillSamples(value);
    else if (off === 0x20) generatorRequest(`s ${value}\n`, 0);
    else if (off === 0x24 && adc) adc.inject(['crc', 'skip'][value]); // fault injection: 0 bad CRC, 1 no DRDY
  },
  writeUint32Atomic(off, value) {
    this.writeUint32(off, value);
  },
};

// ---- USB CDC: the REPL ----
const cdc = new USBCDC(mcu.usbCtrl);
const toGuest = [];
let screen = ''; // what the guest printed and the state machine has not consumed yet
let state = 'boot';
let scriptIndex = 0;
let scriptStart = null;
let failed = false;
const results = [];
cdc.onDeviceConnected = () => toGuest.push(13); // a newline: the REPL answers with its prompt
cdc.onSerialData = (buf) => {
  const s = Buffer.from(buf).toString('latin1');
  screen += s;
  if (state === 'boot' && !opt.run.length) process.stdout.write(s);
};
function send(text) {
  for (const b of Buffer.from(text, 'latin1')) toGuest.push(b);
}
function pump() {
  while (toGuest.length && cdc.txFIFO.itemCount < 500) cdc.sendSerialByte(toGuest.shift());
}
function startScript() {
  const file = opt.run[scriptIndex];
  scriptStart = { cycles: mcu.core.cycles, nanos: mcu.clock.nanos, wall: Date.now() };
  send(fs.readFileSync(file, 'latin1') + '\x04');
  state = 'running';
}
function advance() {
  if (state === 'boot' && screen.includes('>>> ')) {
    mcu.gpio[KEY_ENTER].setInputValue(true); // the key is let go once the REPL is up
    if (!opt.run.length) { state = 'done'; return; }
    screen = '';
    send('\x01'); // raw REPL
    state = 'raw';
  } else if (state === 'raw' && screen.includes('raw REPL; CTRL-B to exit\r\n>')) {
    screen = '';
    startScript();
  } else if (state === 'running' && screen.includes('MPY: soft reboot')) {
    // the script's raw REPL session ended early (a stray Ctrl-B/C/D byte in it, or machine.soft_reset()):
    // the board's main.py would now run the meter and never come back
    process.stderr.write(`emu: the guest rebooted while running ${opt.run[scriptIndex]}: ${JSON.stringify(screen.slice(-400))}\n`);
    failed = true;
    state = 'done';
  } else if (state === 'running') {
    // the raw REPL answers: OK <stdout> \x04 <traceback> \x04 >; stdout is passed on as it comes
    if (screen.startsWith('OK')) {
      const end = screen.indexOf('\x04');
      const out = end < 0 ? screen.slice(2) : screen.slice(2, end);
      if (out) process.stdout.write(out.replace(/\r\n/g, '\n'));
      screen = end < 0 ? 'OK' : screen.slice(end);
    }
    const m = screen.match(/^\x04([\s\S]*?)\x04>/);
    if (m) {
      const r = { script: opt.run[scriptIndex], cycles: mcu.core.cycles - scriptStart.cycles,
        sim_s: (mcu.clock.nanos - scriptStart.nanos) / 1e9, wall_s: (Date.now() - scriptStart.wall) / 1000,
        error: m[1] };
      results.push(r);
      if (m[1]) { failed = true; process.stderr.write(m[1].replace(/\r\n/g, '\n')); }
      screen = '';
      scriptIndex++;
      if (!failed && scriptIndex < opt.run.length) startScript(); else state = 'done';
    }
  }
}

function finish(code) {
  const stats = { image_bytes: imageBytes, cycles: mcu.core.cycles, sim_s: mcu.clock.nanos / 1e9,
    wall_s: (Date.now() - wall0) / 1000, scripts: results, marks, flash: flashStats,
    adc: adc ? adc.state() : null, wait_s: waitNs / 1e9, waits };
  stats.emulated_mhz = stats.cycles / stats.wall_s / 1e6;
  if (lcd) { // ---- panel LCD ----
    stats.lcd = lcd.state();
    if (opt.lcdText) fs.writeFileSync(opt.lcdText, lcd.text());
    if (opt.lcdPng) lcd.png(opt.lcdPng);
  }
  if (opt.statsJson) fs.writeFileSync(opt.statsJson, JSON.stringify(stats, null, 1));
  if (opt.saveFs) fs.writeFileSync(opt.saveFs, mcu.flash.subarray(FS_OFFSET, FS_OFFSET + FS_BYTES));
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

let waitNs = 0; // simulated time the core slept (WFI/WFE): what the CPU load leaves
let waits = 0;
// Simulator.execute's loop with our pumping in between slices; the core skips ahead while it sleeps (WFI)
function slice() {
  const { core, clock } = mcu;
  for (let i = 0; i < 100000; i++) {
    if (core.waiting) {
      const ns = clock.nanosToNextAlarm;
      waitNs += ns;
      waits++;
      clock.tick(ns);
      i += ns / NS_PER_CYCLE;
    } else {
      clock.tick(core.executeInstruction() * NS_PER_CYCLE);
    }
  }
  pump();
  advance();
  if (exitCode !== null && mcu.clock.nanos - exitAt > 20e6) {
    if (state === 'running' && screen.startsWith('OK')) process.stdout.write(screen.slice(2).replace(/\r\n/g, '\n'));
    return finish(exitCode);
  }
  if (state === 'done') return finish(exitCode !== null ? exitCode : failed ? 1 : 0);
  if ((Date.now() - wall0) / 1000 > opt.timeout) {
    process.stderr.write(`emu: timeout after ${opt.timeout} s (state ${state}); last output ${JSON.stringify(screen.slice(-300))}\n`);
    return finish(124);
  }
  setImmediate(slice);
}
slice();

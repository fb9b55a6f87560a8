#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The emulated Raspberry Pi Pico: rp2040js running a MicroPython UF2, with the gaps closed (fixes.mjs), a
// host port the guest can read cycles from, and scripts run through the raw REPL. Driven by tools/emu/__init__.py.
// The chip itself (image, flash, host port, slice loop) is chip.mjs; device mode (the meter running, driven by
// tools/sim.py --runtime rp2040) is device.mjs.
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
import { USBCDC } from 'rp2040js';
import { createChip, runFor, FS_OFFSET, FS_BYTES, PINS } from './chip.mjs';
import { fixCdcIdle } from './fixes.mjs';

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

const KEY_ENTER = PINS.keys.enter;
if (opt.adc && opt.samplesIn === undefined) {
  process.stderr.write('emu: --adc needs a scenario (--samples-in/--samples-out)\n');
  process.exit(2);
}
// the ADS131M08 on SPI0 (--adc, chip.mjs): conversions from the generator, 8000/s of simulated time
const chip = await createChip(opt);
const { mcu, wall0, imageBytes, flashStats, marks } = chip;
// ---- panel LCD (tools/emu/st7567.mjs): --lcd-text / --lcd-png; its state goes into the stats as "lcd" ----
// with --adc the whole board is there: the display too (an SPI1 without a device would hang DMA writes)
const lcd = opt.lcdText || opt.lcdPng || opt.adc ? (await import('./st7567.mjs')).attachSt7567(mcu) : null;

// ---- USB CDC: the REPL ----
const cdc = new USBCDC(mcu.usbCtrl);
fixCdcIdle(cdc); // the host NAKs while it has nothing to send: the guest's USB stays quiet while a script runs
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
  cdc.flush();
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
    adc: chip.adc ? chip.adc.state() : null, wait_s: (mcu.waitNanos || 0) / 1e9, waits: mcu.waits || 0 };
  stats.emulated_mhz = stats.cycles / stats.wall_s / 1e6;
  if (lcd) { // ---- panel LCD ----
    stats.lcd = lcd.state();
    stats.lcd_frame = lcd.frame().toString('hex'); // the glass as MONO_VLSB (what the sim's `fb` answers)
    if (opt.lcdText) fs.writeFileSync(opt.lcdText, lcd.text());
    if (opt.lcdPng) lcd.png(opt.lcdPng);
  }
  if (opt.statsJson) fs.writeFileSync(opt.statsJson, JSON.stringify(stats, null, 1));
  if (opt.saveFs) fs.writeFileSync(opt.saveFs, mcu.flash.subarray(FS_OFFSET, FS_OFFSET + FS_BYTES));
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

// the slice loop with our pumping in between slices; the core skips ahead while it sleeps (WFI)
function slice() {
  runFor(mcu, 100000);
  pump();
  advance();
  const { exitCode, exitAt } = chip;
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

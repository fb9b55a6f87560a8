#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Device mode: the meter's UF2 runs on the emulated Pico as it would on the board (main.py -> board.run()), and
// the host drives its pins in framed messages on stdin/stdout, the same framing as tools/simproc.py (type byte +
// uint32 LE length + payload). tools/simchip.py speaks it for `python -m tools.sim --runtime rp2040`.
//
//   node device.mjs --uf2 F --bootrom URL [--state FILE] [--speed X|max] [--samples-in FD --samples-out FD]
//                   [--main FILE.py] [--pins JSON]
// --pins: boards/pico/pins.py's constants (KEYS RELAYS INPUTS PULSE_P PULSE_Q AO_PWM POWER_FAIL RS485) as JSON;
// tools/simchip.py passes them, so the host drives the pins the image was built with.
// --main: a hand-written main loop in place of board.run() (tests): booted in service mode, FILE goes through
// the raw REPL and runs there; what it prints after the REPL's "OK" is the console as above.
//
// host -> device                                   device -> host
//   M bytes   into UART0 RX (RS485), one byte per     R text    the guest printed READY (its main loop runs):
//             character time of the guest's baud,               "console" (it answers C lines)
//             in simulated time, frames apart by      M bytes   what UART0 sent while DE (GP2) was high: one
//             more than t3.5                                  message per DE high->low edge, after
//                                                   W <u32>   the host frames complete t3.5 before DE rose
//                                                   U json    UART0's format when the guest changes it:
//                                                             {baud, bits, parity N|E|O|M|S, stop}
//   K name    key low for 100 ms (simulated)         T text    the answer to one C (in order), or to Q: "bye"
//   D [k, on] DI k (1|2): low when on                 E text    a guest log line (anything on the console
//   C line    a console command (state, set N V,               that is not an answer or an event)
//             lcd, fb), answered by one T             G <BBd>   an output pin changed: pin, level, simulated
//             (lcd, fb: from the LCD model when attached; fb = the glass as 1024 bytes MONO_VLSB in hex)
//   B <k><ms>  DI k closed for ms (u16) of simulated time, then open
//   S json    the sample feeder plays this scenario             microseconds (relays, pulse outputs)
//   Q         power-fail input low, wait for          F json    figures once per simulated second: time_s,
//             "!bye" (2 s simulated at most), T bye,            cycles, cpu_load
//             then the supply goes: exit
// stdin EOF is a power cut: exit at once. With --state the flash storage region (0xa0000, 1408 KiB) lives in
// FILE: loaded at boot, every erase and page program written through as the chip makes it.
// Console (USB CDC, the guest's service console): the guest prints free text, "READY" when its main loop runs,
// "=..." answers (one per command line we send), "!..." events ("!bye" after the power-fail save).
import fs from 'fs';
import { USBCDC } from 'rp2040js';
import { applyPinMap, createChip, optionalModel, runFor, PINS } from './chip.mjs';
import { fixCdcIdle } from './fixes.mjs';

const args = process.argv.slice(2);
const opt = { speed: 1, adc: 'auto' };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => args[++i];
  if (a === '--uf2') opt.uf2 = next();
  else if (a === '--bootrom') opt.bootrom = next();
  else if (a === '--state') opt.state = next();
  else if (a === '--speed') { const v = next(); opt.speed = v === 'max' ? null : Number(v); }
  else if (a === '--samples-in') opt.samplesIn = Number(next());
  else if (a === '--samples-out') opt.samplesOut = Number(next());
  else if (a === '--main') opt.main = next();
  else if (a === '--pins') applyPinMap(JSON.parse(next())); // boards/pico/pins.py's constants as JSON
  else { process.stderr.write(`emu: unknown argument ${a}\n`); process.exit(2); }
}
if (opt.speed !== null && !(opt.speed > 0)) { process.stderr.write('emu: --speed X (> 0) or max\n'); process.exit(2); }

const KEY_NS = 100e6; // a key press: 100 ms low
const CONSOLE_TIMEOUT_NS = 2e9; // a command the guest has not answered in 2 s (simulated) gets an error
const BYE_TIMEOUT_NS = 2e9; // power-fail input low -> "!bye"
const SLICE_CYCLES = 250000; // one runFor call: 2 ms of simulated time at most
const SLICE_WALL_MS = 15; // then stdin and timers get a turn

if (opt.main) opt.serviceMode = true; // ENTER held at power-up: main.py leaves the REPL free
// The chip of this power-up; a reset (the watchdog, machine.reset()) makes a new one from the old one's flash and
// watchdog scratch registers (boot()). Host-side time runs on across resets: now().
let chip;
let mcu;
let clock;
let timeBase = 0; // simulated nanoseconds, busy nanoseconds and cycles of the chips before this one
let busyBase = 0;
let cyclesBase = 0;
const now = () => timeBase + clock.nanos;
const resets = { watchdog: 0, forced: 0 };
let resetReason = null; // set by the watchdog's trigger: the loop resets the chip after the current slice

// ---- messages ----
// Kinds as letters; boards/sim/proto.py is their one definition and says what each carries (the Python ends
// import it: tools/simchip.py reads what this sends).
function send(kind, payload = Buffer.alloc(0)) {
  if (typeof payload === 'string') payload = Buffer.from(payload, 'utf8');
  const hdr = Buffer.alloc(5);
  hdr.write(kind, 0, 'latin1');
  hdr.writeUInt32LE(payload.length, 1);
  try {
    fs.writeSync(1, Buffer.concat([hdr, payload]));
  } catch (e) {
    if (e.code === 'EAGAIN') { process.stdout.write(Buffer.concat([hdr, payload])); return; }
    process.exit(0); // the host is gone: a power cut
  }
}
const log = (text) => send('E', text);

// ---- pins (createChip: keys and DI released, supply good) ----
// Presses queue up: one key at a time, KEY_NS down then KEY_GAP_NS up before the next (a finger on the panel),
// in simulated time, so a burst of `key` commands is never two keys held at once however fast the host sends.
const KEY_GAP_NS = 100e6;
let keyQueue = [];
let keyHeld = null;
let keyBusy = false; // a key down, or the gap after it (rp2040js alarms keep `scheduled` set after firing)
let keyAlarm;
let diAlarms = {};
function wireKeys() { // at each boot: the alarms belong to the chip's clock
  keyQueue = [];
  keyHeld = null;
  keyBusy = false;
  diAlarms = {};
  keyAlarm = clock.createAlarm(() => {
    if (keyHeld !== null) {
      mcu.gpio[keyHeld].setInputValue(true); // released
      keyHeld = null;
      keyAlarm.schedule(KEY_GAP_NS);
    } else if (keyQueue.length) pressNext();
    else keyBusy = false;
  });
}
function pressNext() {
  keyBusy = true;
  keyHeld = keyQueue.shift();
  mcu.gpio[keyHeld].setInputValue(false);
  keyAlarm.schedule(KEY_NS);
}
function key(name) {
  const pin = PINS.keys[name];
  if (pin === undefined) return log(`emu: no key ${JSON.stringify(name)}`);
  keyQueue.push(pin);
  if (!keyBusy) pressNext();
}
// a contact closed for ms of simulated time, then open again (a bounce shorter than the 40 ms debounce, or a pulse)
function diPulse(k, ms) {
  const pin = PINS.inputs[k - 1];
  if (pin === undefined) return log(`emu: no DI${k}`);
  mcu.gpio[pin].setInputValue(false);
  const a = diAlarms[k] || (diAlarms[k] = clock.createAlarm(() => mcu.gpio[pin].setInputValue(true)));
  a.schedule(ms * 1e6);
}
function wireOutputs() {
  for (const p of [...PINS.relays, ...PINS.pulses]) {
    mcu.gpio[p].addListener((v) => {
      if (v !== 0 && v !== 1) return; // input states: not driven
      const b = Buffer.alloc(10);
      b[0] = p;
      b[1] = v;
      b.writeDoubleLE(now() / 1000, 2);
      send('G', b);
    });
  }
}

// ---- RS485: UART0 and DE ----
// Host frames enter the RX pin one character time apart; two frames at least GAP apart (the host cut them at line
// silence: they must not merge here). A reply is sent as W (how many host frames could have been answered when it
// started: those whose last character came t3.5 or more before DE rose) then M, so the host knows which request it
// answers. U reports the UART's format whenever the guest changes it (the host models the wire between the
// master's settings and these, tools/wire.py).
let uart;
let de;
let rxAlarm;
const counters = { rx_bytes: 0, rx_lost: 0, tx_bytes: 0, frames_tx: 0, tx_dropped: 0, console_timeouts: 0 };
let rxQueue = []; // characters, and after each host frame's last one { end: its number }
let rxBusy = false;
let lastFed = -Infinity; // simulated ns the last character entered the RX FIFO
let framesIn = 0; // host M messages so far (the host numbers its frames the same way)
let rxEnds = []; // [frame number, simulated ns its last character entered], not yet answered
let answerable = 0; // W of the reply in progress
let uartFormat = '';
function charNanos() {
  const lcr = uart.lineCtrlRegister;
  const bits = 1 + uart.wordLength + ((lcr & 2) ? 1 : 0) + ((lcr & 8) ? 2 : 1); // start, data, PEN, STP2
  const baud = uart.baudDivider ? uart.baudRate : 9600;
  return (bits * 1e9) / baud;
}
const t35Nanos = () => ((uart.baudDivider ? uart.baudRate : 9600) > 19200 ? 1.75e6 : 3.5 * charNanos());
const gapNanos = () => Math.max(4 * charNanos(), 2e6); // over t3.5 at any rate
function rxFrame(bytes) {
  const index = ++framesIn;
  if (!bytes.length) return;
  for (const b of bytes) rxQueue.push(b);
  rxQueue.push({ end: index });
  if (!rxBusy) {
    rxBusy = true; // the first byte is in the FIFO once its stop bit has passed, a gap after the last frame
    rxAlarm.schedule(Math.max(charNanos(), lastFed + gapNanos() + charNanos() - now()));
  }
}
function uartFormatNow() {
  const lcr = uart.lineCtrlRegister;
  const parity = !(lcr & 2) ? 'N' : (lcr & 0x80) ? ((lcr & 4) ? 'S' : 'M') : ((lcr & 4) ? 'E' : 'O');
  return JSON.stringify({ baud: uart.baudDivider ? uart.baudRate : 9600, bits: uart.wordLength, parity,
    stop: (lcr & 8) ? 2 : 1 });
}
function checkUartFormat() {
  if (!uart.baudDivider) return; // not programmed yet
  const f = uartFormatNow();
  if (f !== uartFormat) {
    uartFormat = f;
    send('U', f);
  }
}
let txBuf = [];
function wireUart() {
  uart = mcu.uart[PINS.rs485.uart];
  de = mcu.gpio[PINS.rs485.de];
  rxQueue = [];
  rxBusy = false;
  txBuf = [];
  rxAlarm = clock.createAlarm(() => {
    if (uart.rxFIFO.full) counters.rx_lost++; // the guest did not empty the 32-byte FIFO in time: an overrun
    uart.feedByte(rxQueue.shift());
    counters.rx_bytes++;
    lastFed = now();
    if (typeof rxQueue[0] === 'object') { // that was a frame's last character; the next frame comes after a gap
      rxEnds.push([rxQueue.shift().end, lastFed]);
      if (rxQueue.length) rxAlarm.schedule(gapNanos() + charNanos());
      else rxBusy = false;
    } else if (rxQueue.length) rxAlarm.schedule(charNanos());
    else rxBusy = false;
  });
  uart.onByte = (b) => {
    if (de.value === 1) txBuf.push(b);
    else counters.tx_dropped++; // the transceiver's driver is off: nothing reaches the line
    counters.tx_bytes++;
  };
  de.addListener((v, old) => {
    if (v === 1 && old !== 1) { // a reply starts: it answers one of the frames that were complete t3.5 before
      const t = now() - t35Nanos();
      for (const [index, end] of rxEnds) if (end <= t) answerable = index;
    }
    if (old === 1 && v !== 1 && txBuf.length) {
      const w = Buffer.alloc(4);
      w.writeUInt32LE(answerable, 0);
      send('W', w);
      send('M', Buffer.from(txBuf));
      counters.frames_tx++;
      txBuf = [];
      rxEnds = rxEnds.filter(([index]) => index > answerable);
    }
  });
}

// ---- the LCD model (st7567.mjs) when its file exists; the ADC model is the chip's (createChip, adc: 'auto') ----
const lcdMod = await optionalModel('./st7567.mjs');
let lcd = null; // attached at each boot, with its own pin defaults (boards/pico/pins.py LCD_SPI)

// ---- figures: cycles and CPU load over the last simulated second ----
const loadRing = []; // [nanos, busy nanos] about every 10 ms simulated
function cpuLoad() {
  const t = [now(), busyBase + (mcu.busyNanos || 0)];
  const last = loadRing[loadRing.length - 1];
  if (!last || t[0] - last[0] >= 10e6) loadRing.push(t);
  while (loadRing.length > 2 && t[0] - loadRing[1][0] >= 1e9) loadRing.shift();
  const [n0, c0] = loadRing[0];
  return t[0] > n0 ? (t[1] - c0) / (t[0] - n0) : 0;
}
function figures() {
  return { time_s: now() / 1e9, cycles: cyclesBase + mcu.core.cycles, cpu_load: Number(cpuLoad().toFixed(4)) };
}
// the 4-20 mA output's PWM duty (0..1): its slice's CC over TOP + 1, as the RC filter averages it
function aoDuty() {
  if (PINS.ao === undefined || mcu.gpio[PINS.ao].functionSelect !== 4) return null;
  const ch = mcu.pwm.channels[(PINS.ao >> 1) & 7];
  if (!(ch.csr & 1)) return 0; // slice disabled
  const cc = PINS.ao & 1 ? ch.cc >>> 16 : ch.cc & 0xffff;
  return Number(Math.min(1, cc / (ch.top + 1)).toFixed(6));
}
function chipFacts() {
  return { ...figures(), uart: { ...counters, baud: uart.baudDivider ? uart.baudRate : null }, ao_duty: aoDuty(),
    flash: chip.flashStats, resets, adc_model: !!chip.adc, lcd_model: !!lcd, backlight: lcd ? lcd.backlight() : null,
    wall_s: (Date.now() - chip.wall0) / 1000 };
}

// ---- the console: USB CDC ----
let cdc;
let toGuest = [];
let line = [];
let ready = false;
let rSent = false;
let byeSeen = false;
const pending = []; // commands in the order they came: { cmd, guest, text, at }
// --main: 'repl' until the prompt, 'raw' until the raw REPL's banner, 'ok' until its "OK", then 'run'
let phase = 'run';
let screen = '';
let legacyAlarm;
function wireConsole() {
  cdc = new USBCDC(mcu.usbCtrl);
  fixCdcIdle(cdc); // the host NAKs while it has nothing to send: a guest waiting for input sleeps
  toGuest = [];
  line = [];
  ready = false;
  phase = opt.main ? 'repl' : 'run';
  screen = '';
  cdc.onDeviceConnected = () => { if (opt.main) toGuest.push(13); }; // the REPL answers a newline with its prompt
  cdc.onSerialData = serialData;
  legacyAlarm = clock.createAlarm(() => {
    if (!ready) {
      ready = true;
      send('R');
    }
  });
}
function replSetup(buf) {
  screen += Buffer.from(buf).toString('latin1');
  if (phase === 'repl' && screen.includes('>>> ')) {
    mcu.gpio[PINS.keys.enter].setInputValue(true);
    screen = '';
    toGuest.push(1); // Ctrl-A: raw REPL
    phase = 'raw';
  } else if (phase === 'raw' && screen.includes('raw REPL; CTRL-B to exit\r\n>')) {
    for (const b of Buffer.concat([fs.readFileSync(opt.main), Buffer.from([4])])) toGuest.push(b);
    screen = '';
    phase = 'ok';
  } else if (phase === 'ok' && screen.startsWith('OK')) {
    const rest = Buffer.from(screen.slice(2), 'latin1');
    phase = 'run';
    screen = '';
    if (rest.length) serialData(rest);
  }
}
function serialData(buf) {
  if (phase !== 'run') return replSetup(buf);
  for (const b of buf) {
    if (b !== 10) { line.push(b); continue; }
    let text = Buffer.from(line).toString('utf8');
    line = [];
    if (text.endsWith('\r')) text = text.slice(0, -1);
    consoleLine(text);
  }
}
function consoleLine(text) {
  if (text.startsWith('=')) return answer(text.slice(1));
  if (text === '!bye') {
    byeSeen = true;
    if (quitAt === null) log('emu: the meter said !bye with the supply good (power-fail input high)');
    return;
  }
  if (text.startsWith('!')) return log(text);
  // READY: the main loop runs. The first board.run() (Modbus only) printed "KPM53 firmware on armv6m ready" and
  // no READY: that line counts as a READY without a console unless READY follows within 100 ms (simulated).
  if (!ready && text === 'READY') {
    ready = true;
    legacyAlarm.cancel();
    if (!rSent) send('R', 'console'); // it answers command lines (after a reset the host knows it already)
    rSent = true;
    return;
  }
  if (!ready && /^KPM53 firmware on \S+ ready$/.test(text)) legacyAlarm.schedule(100e6);
  log(text);
}
function toConsole(text) {
  for (const b of Buffer.from(text + '\n', 'utf8')) toGuest.push(b);
}
function pumpConsole() {
  while (toGuest.length && cdc.txFIFO.itemCount < 500) cdc.sendSerialByte(toGuest.shift());
  cdc.flush();
}
function command(cmd) {
  const entry = { cmd, guest: true, text: null, at: now() };
  // `lcd` is the meter's own text of its screen (Meter.lcd_text through the console), as on the host runtimes:
  // the glass is drawn in the firmware's glyphs, which the LCD model's 8x8 read-back (lcd.text()) cannot read
  if (cmd === 'fb') { // the glass's pixels off the LCD model: the guest is not asked
    entry.guest = false;
    entry.text = lcd ? lcd.frame().toString('hex') : 'ERR no LCD model (tools/emu/st7567.mjs)';
  } else toConsole(cmd);
  pending.push(entry);
  flushAnswers();
}
function answer(text) {
  const entry = pending.find((e) => e.guest && e.text === null);
  if (!entry) return log(`emu: an answer nobody asked for: =${text}`);
  if (entry.cmd === 'state') {
    try {
      const d = JSON.parse(text);
      for (const [k, v] of Object.entries(figures())) if (!(k in d)) d[k] = v; // the meter's own time_s wins
      d.chip = chipFacts();
      text = JSON.stringify(d);
    } catch (e) { /* passed on as it is: the host says it is not JSON */ }
  } else if (entry.cmd === 'lcd') text = text.replace(/\|/g, '\n');
  entry.text = text;
  flushAnswers();
}
function flushAnswers() {
  while (pending.length && pending[0].text !== null) send('T', pending.shift().text);
}
function consoleTimeouts() {
  for (const e of pending) {
    if (e.text !== null || now() - e.at < CONSOLE_TIMEOUT_NS) continue;
    counters.console_timeouts++;
    e.guest = false; // a late answer goes to the next command
    e.text = e.cmd === 'state' ? JSON.stringify({ ...figures(), chip: chipFacts(), console: 'no answer' })
      : `ERR the meter's console did not answer ${JSON.stringify(e.cmd)} in 2 s`;
  }
  flushAnswers();
}

// ---- host messages on stdin ----
let inBuf = Buffer.alloc(0);
let quitAt = null;
let quitRequested = false;
function powerFailWhenAnswered() {
  // commands are answered in order; the meter stops answering once it saves: a `state` sent just before `quit`
  // must get its answer first (consoleTimeouts() ends the wait after 2 s simulated)
  if (!quitRequested || quitAt !== null || pending.some((e) => e.text === null)) return;
  mcu.gpio[PINS.powerFail].setInputValue(false);
  quitAt = now();
}
function hostMessage(kind, p) {
  if (kind === 'M') rxFrame(p);
  else if (kind === 'K') key(p.toString('latin1'));
  else if (kind === 'D') mcu.gpio[PINS.inputs[p[0] - 1]]?.setInputValue(!p[1]);
  else if (kind === 'B') diPulse(p[0], p.readUInt16LE(1)); // B <k> <ms u16>: DI k closed for ms
  else if (kind === 'C') command(p.toString('utf8'));
  else if (kind === 'S') {
    const err = chip.feeder.present ? chip.feeder.scenario(p.toString('utf8')) : 'no sample feeder';
    if (err) log(`emu: scenario not taken: ${err}`);
  } else if (kind === 'Q') {
    quitRequested = true; // the power-fail input goes low once the console commands sent before are answered
    powerFailWhenAnswered();
  } else log(`emu: unknown message kind ${JSON.stringify(kind)}`);
}
let booting = true; // no chip to take messages yet (power-up, a reset): they wait in inBuf
process.stdin.on('data', (data) => {
  inBuf = inBuf.length ? Buffer.concat([inBuf, data]) : data;
  drainInput();
});
function drainInput() {
  while (!booting && inBuf.length >= 5) {
    const n = inBuf.readUInt32LE(1);
    if (inBuf.length < 5 + n) break;
    hostMessage(String.fromCharCode(inBuf[0]), inBuf.subarray(5, 5 + n));
    inBuf = inBuf.subarray(5 + n);
  }
}
process.stdin.on('end', () => process.exit(0)); // the launcher is gone: a power cut (the flash file is current)

function powerOff() {
  // the supply is gone: what the chip wrote is in the state file already
  send('T', byeSeen ? 'bye' : 'ERR no !bye from the meter within 2 s of the power-fail input');
  if (chip.stateFd !== null) fs.fdatasyncSync(chip.stateFd);
  process.exit(0);
}

// ---- power-up and resets ----
async function boot(carry) {
  booting = true;
  chip = await createChip({ ...opt, flash: carry ? carry.flash : undefined });
  mcu = chip.mcu;
  clock = mcu.clock;
  const wd = mcu.peripherals[0x40058];
  if (carry) { // a reset keeps the watchdog's scratch registers and says why it happened (REASON)
    wd.scratchData.set(carry.scratch);
    wd.reason = carry.reason;
  }
  wd.onWatchdogTrigger = () => { // the watchdog timed out (REASON = TIMER) or machine.reset() (FORCE)
    resetReason = wd.reason;
    wd.timer.enable = false; // a reset stops it (rp2040js would fire it again at once, forever)
    wd.alarm.enable = false;
    mcu.stop = true; // runFor ends the slice: the core executes no further instruction
  };
  if (quitAt !== null) mcu.gpio[PINS.powerFail].setInputValue(false);
  wireKeys();
  wireOutputs();
  wireUart();
  lcd = lcdMod ? lcdMod.attachSt7567(mcu) : null;
  wireConsole();
  booting = false;
  drainInput();
}
async function reset() {
  const wd = mcu.peripherals[0x40058];
  const watchdog = (resetReason & 1) !== 0; // REASON.TIMER, else FORCE
  resets[watchdog ? 'watchdog' : 'forced']++;
  log(`emu: the chip resets (${watchdog ? 'watchdog timeout' : 'forced: machine.reset()'}) at ${(now() / 1e9).toFixed(3)} s`);
  const carry = { flash: mcu.flash.slice(), scratch: wd.scratchData.slice(), reason: wd.reason };
  timeBase += clock.nanos;
  busyBase += mcu.busyNanos || 0;
  cyclesBase += mcu.core.cycles;
  if (chip.stateFd !== null) fs.closeSync(chip.stateFd);
  for (const e of pending) {
    if (e.text !== null || !e.guest) continue;
    e.guest = false;
    e.text = e.cmd === 'state' ? JSON.stringify({ ...figures(), chip: chipFacts(), console: 'the meter reset' })
      : 'ERR the meter reset before it answered';
  }
  flushAnswers();
  resetReason = null;
  await boot(carry);
  wallRef = performance.now();
  simRef = now();
}

// ---- the slice loop, paced against the wall clock ----
await boot(null);
let wallRef = performance.now();
let simRef = now();
let nextFigures = 1e9;
function loop() {
  const t0 = performance.now();
  for (;;) {
    let until = Infinity;
    if (opt.speed !== null) {
      until = simRef + (performance.now() - wallRef) * 1e6 * opt.speed;
      if (until - now() > 1e9) { // over 1 s behind: resynchronise rather than race to catch up
        wallRef = performance.now();
        simRef = now();
        until = now() + 20e6;
      }
      if (now() >= until) break;
    }
    runFor(mcu, SLICE_CYCLES, until - timeBase);
    checkUartFormat();
    pumpConsole();
    cpuLoad();
    powerFailWhenAnswered();
    if (quitAt !== null && (byeSeen || now() - quitAt > BYE_TIMEOUT_NS)) return powerOff();
    if (resetReason !== null) return reset().then(() => setImmediate(loop));
    if (now() >= nextFigures) {
      nextFigures = now() - (now() % 1e9) + 1e9;
      send('F', JSON.stringify(figures()));
    }
    if (pending.length) consoleTimeouts();
    if (performance.now() - t0 > SLICE_WALL_MS) break;
  }
  if (opt.speed === null) return setImmediate(loop);
  const ahead = (now() - simRef) / 1e6 / opt.speed - (performance.now() - wallRef); // wall ms
  if (ahead > 1) setTimeout(loop, Math.min(ahead, 50));
  else setImmediate(loop);
}
loop();

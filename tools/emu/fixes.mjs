// SPDX-License-Identifier: MIT
// Two gaps of rp2040js 1.4.1 that the meter's firmware runs into, closed here (STUDY.md problems 4 and 5).
//
// 1. Flash erase/program. rp2040js models XIP reads only; the bootrom's flash_range_erase/program talk to the
//    flash chip through the SSI with chip select forced by IO_QSPI, and those bytes go nowhere (the rp2
//    littlefs cannot even be formatted). attachFlash() replaces the SSI and IO_QSPI models with a serial NOR
//    flash of the W25Q16JV kind: 06 write enable, 04 write disable, 05/35 status (never busy), 02 page program
//    (bits only go 1 -> 0, the address wraps in its 256-byte page), 20/52/D8 erase 4/32/64 KiB, 03/0B read,
//    9F JEDEC id, 4B unique id. Operations complete at once; counts are kept for the caller, and onWrite(offset,
//    length) (optional) hears of every erase and page program once it is done (device mode writes the storage
//    region through to its state file).
// 2. The UART TX interrupt. rp2040js raises TXRIS on every interrupt check ("TODO: proper FIFO for TX"), so a
//    MicroPython UART with a TX buffer (TXIM enabled) never leaves its interrupt handler. fixUartTx() raises
//    TXRIS only when the firmware writes a byte (the model's FIFO empties at once) and lets UARTICR clear it,
//    as the PL011's level-crossing TX interrupt behaves.
import { BasePeripheral } from 'rp2040js';

const FLASH_BYTES = 2 * 1024 * 1024; // the Pico's W25Q16JV

export function attachFlash(mcu, onWrite = null) {
  const mem = mcu.flash; // offset 0 = XIP address 0x10000000
  const stats = { erases: 0, pagePrograms: 0, bytesProgrammed: 0 };
  let selected = false;
  let cmd = -1;
  let n = 0;
  let addr = 0;
  let lo = -1; // the bytes a page program touched: lo..hi
  let hi = -1;

  const wrap = (a) => a & (FLASH_BYTES - 1);
  function erase(size) {
    const base = wrap(addr) & ~(size - 1);
    mem.fill(0xff, base, base + size);
    stats.erases++;
    if (onWrite) onWrite(base, size);
  }
  // one byte shifted out to the flash, one byte shifted back
  function exchange(b) {
    if (cmd < 0) {
      cmd = b;
      n = 0;
      addr = 0;
      return 0;
    }
    const i = n++;
    if (cmd === 0x05) return 0; // status register 1: BUSY = 0
    if (cmd === 0x35) return 0x02; // status register 2: QE = 1
    if (cmd === 0x9f) return [0xef, 0x40, 0x15][i] ?? 0;
    if (cmd === 0x4b) return i < 4 ? 0 : (0x5a + i) & 0xff;
    if (i < 3) { // 24-bit address, most significant byte first
      addr = (addr << 8) | b;
      if (i === 2 && cmd === 0x20) erase(4096);
      if (i === 2 && cmd === 0x52) erase(32768);
      if (i === 2 && cmd === 0xd8) erase(65536);
      return 0;
    }
    if (cmd === 0x03) return mem[wrap(addr + i - 3)];
    if (cmd === 0x0b) return i === 3 ? 0 : mem[wrap(addr + i - 4)];
    if (cmd === 0x02) {
      const a = wrap((addr & ~0xff) | ((addr + i - 3) & 0xff));
      mem[a] &= b;
      stats.bytesProgrammed++;
      if (lo < 0 || a < lo) lo = a;
      if (a > hi) hi = a;
    }
    return 0;
  }
  function deselect() {
    if (cmd === 0x02) {
      stats.pagePrograms++;
      if (onWrite && lo >= 0) onWrite(lo, hi - lo + 1);
    }
    lo = hi = -1;
    cmd = -1;
  }

  class Ssi extends BasePeripheral {
    constructor() {
      super(mcu, 'SSI');
      this.regs = new Map();
      this.rx = [];
    }
    readUint32(off) {
      if (off === 0x20) return 0; // TXFLR: every byte leaves at once
      if (off === 0x24) return this.rx.length; // RXFLR
      if (off === 0x28) return 0x06 | (this.rx.length ? 0x08 : 0); // SR: TFNF TFE (+ RFNE), never busy
      if (off >= 0x60 && off < 0xa0) return this.rx.length ? this.rx.shift() : 0; // DR0..
      return this.regs.get(off) ?? 0;
    }
    writeUint32(off, value) {
      if (off >= 0x60 && off < 0xa0) {
        const r = selected ? exchange(value & 0xff) : 0;
        if (this.rx.length < 16) this.rx.push(r);
        return;
      }
      if (off === 0x08 && (value & 1) === 0) this.rx.length = 0; // SSIENR = 0 flushes the FIFOs
      this.regs.set(off, value);
    }
  }
  class IoQspi extends BasePeripheral {
    constructor() {
      super(mcu, 'IO_QSPI');
      this.regs = new Map();
    }
    readUint32(off) {
      return this.regs.get(off) ?? 0;
    }
    writeUint32(off, value) {
      this.regs.set(off, value);
      if (off === 0x0c) { // GPIO_QSPI_SS_CTRL: OUTOVER = 2 drives chip select low
        const low = ((value >> 8) & 3) === 2;
        if (low && !selected) cmd = -1;
        if (!low && selected) deselect();
        selected = low;
      }
    }
  }
  mcu.peripherals[0x18000] = new Ssi();
  mcu.peripherals[0x40018] = new IoQspi();
  return stats;
}

export function fixUartTx(uart) {
  const TXRIS = 1 << 5;
  uart.checkInterrupts = function checkInterrupts() {
    this.rp2040.setInterrupt(this.irq, (this.interruptStatus & this.interruptMask) !== 0);
  };
  const write = uart.writeUint32.bind(uart);
  uart.writeUint32 = function writeUint32(offset, value) {
    write(offset, value);
    if (offset === 0) { // UARTDR
      this.interruptStatus |= TXRIS;
      this.checkInterrupts();
    }
  };
}

// 3. DMA pacing timers. rp2040js 1.4.1 takes the fraction upside down (period = X / Y / clk_sys), so a timer set
//    to X/Y = 6/3125 (240 kHz at 125 MHz, the ADC frame clock of boards/pico/adc_dma.py) would fire every 0.4 ns.
//    The RP2040 datasheet (2.5.3.4, TIMER0..3) gives rate = clk_sys * X / Y: the period is Y / (X * clk_sys).
export function fixDmaTimers(mcu) {
  const dma = mcu.dma;
  dma.getTimer = function getTimer(treq) {
    if (treq < 59 || treq > 62) return 0; // not a timer: the channel waits for its DREQ
    const reg = [this.timer0, this.timer1, this.timer2, this.timer3][treq - 59];
    const x = reg >>> 16;
    const y = reg & 0xffff;
    if (!x || !y) return 0;
    return (y / x) * 1e6 / this.rp2040.clkSys; // microseconds
  };
}

// 4. An idle USB CDC host. rp2040js's USBCDC answers every OUT buffer the device arms at once, with an empty packet
//    when it has nothing to send; TinyUSB re-arms at once, so a guest that waits for console input takes a USB
//    interrupt every few microseconds and never sleeps (cpu_load 1.0). A real host NAKs until it has data:
//    fixCdcIdle() holds the armed buffer until bytes are queued and flush() is called (device mode's pump).
export function fixCdcIdle(cdc) {
  const usb = cdc.usb;
  let armed = null; // the size of the OUT buffer the device armed and we have not filled
  function complete(size) {
    const buffer = new Uint8Array(Math.min(size, cdc.txFIFO.itemCount));
    for (let i = 0; i < buffer.length; i++) buffer[i] = cdc.txFIFO.pull();
    usb.endpointReadDone(cdc.outEndpoint, buffer);
  }
  usb.onEndpointRead = (endpoint, size) => {
    if (endpoint !== cdc.outEndpoint) return;
    if (cdc.txFIFO.itemCount) complete(size);
    else armed = size;
  };
  cdc.flush = () => {
    if (armed !== null && cdc.txFIFO.itemCount) {
      const size = armed;
      armed = null;
      complete(size);
    }
  };
}

// 5. Reading a driven pin. On the RP2040 a pin's input (GPIO_IN, Pin.value()) sees the pad, so an output pin reads
//    back the level it drives; rp2040js reads only what the host set with setInputValue(). fixPadLoopback() copies
//    every driven level (SIO/PWM/PIO output enabled) to the pin's input as it changes.
export function fixPadLoopback(mcu) {
  for (const pin of mcu.gpio) {
    pin.addListener((v) => {
      if (v === 0 || v === 1) pin.setInputValue(v === 1);
    });
  }
}

// 6. SPI with nothing attached. rp2040js completes a byte the instant it leaves the TX FIFO, so a TX DMA can run
//    ahead of the RX DMA that MicroPython's SPI.write pairs with it, overflow the 8-entry RX FIFO and hang the
//    write in dma_channel_is_busy (seen with the panel LCD's 128-byte rows when no LCD model is attached: whether
//    it hangs depends on the order the two channels' alarms happen to fire). fixSpiPacing() completes each frame
//    after its bits at the programmed SCK rate, as the PL022 does, reading back 0xFF (an idle MISO line); device
//    models (ads131m08.mjs, st7567.mjs) replace onTransmit with their own, paced the same way.
export function fixSpiPacing(mcu) {
  for (const spi of mcu.spi) {
    const done = mcu.clock.createAlarm(() => spi.completeTransmit(0xff));
    spi.onTransmit = () => {
      const hz = spi.clockFrequency;
      const bits = (spi.control0 & 0xf) + 1;
      if (hz) done.schedule(Math.round((bits * 1e9) / hz));
      else spi.completeTransmit(0xff);
    };
  }
}

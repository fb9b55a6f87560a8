# SPDX-License-Identifier: MIT
# The front panel: five keys, the menu state machine, the display model and its renderers (manual 4.1-4.3).
# Ui ties them to the meter's measurements (`vals`), configuration (`cfg`) and discrete I/O (`io`).
from firmware.ui import fb as _fb
from firmware.ui import keymap, menu, screen, text


class Ui:
    def __init__(self, vals, slot, cfg, io, extra=None, meas=None, flags=None):
        """slot(name): index of a measurement in vals (regmap.slot); extra(name): a callable for a page row
        whose value is no float slot (energy, clock, max/min ...), or None (the row shows ----); meas:
        metering's view of each window (Metering: .dirs directions with their dead band, .mask, .slots), or
        None for raw signs and every value shown (menu.fill); flags: what is wrong with the inputs
        (firmware/inputflags.py InputFlags: .mark(), .words()), or None."""
        self.vals = vals
        self.meas = meas
        self.flags = flags
        self.io = io
        self.menu = menu.Menu(cfg, slot, extra)
        if meas is not None:
            self.menu.mslots = bytes(meas.slots)
        self.model = screen.Screen()

    def key(self, name):
        """'left' 'up' 'down' 'right' 'enter'; False for an unknown name."""
        r = keymap.step(self.menu, name)
        if self.menu.mode == menu.MEAS:
            self.menu.current()  # resolve the new page's rows now (~10 ms on the RP2040), not in the next draw
        return r

    def tick(self, ms):
        menu.tick(self.menu, ms)

    def screen(self):
        menu.fill(self.menu, self.model, self.vals, self.io, self.meas)
        scr = self.model
        f = self.flags
        scr.warn = f.mark() if f is not None else ""
        scr.warn_text = f.words() if f is not None and scr.warn else ""
        return scr

    def text(self):
        return text.render(self.screen())

    def render(self, buf):
        """Draw the glass into buf (1024 bytes, the ST7567's MONO_VLSB 128x64, firmware/ui/fb.py); returns how
        many texts did not fit (0 on every page: host_tests/cases/case_ui_glass.py)."""
        return _fb.render(self.screen(), buf)

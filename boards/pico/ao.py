# SPDX-License-Identifier: MIT
# The 4-20 mA analog output on the Pico: a PWM pin into a second-order RC filter and a voltage-to-current stage
# (e.g. XTR111: Iout = 10 * Vin / Rset). Meter(ao_out=...) hands over whole microamps (firmware/analog.py).
from micropython import const

FREQ_HZ = const(1907)  # 125 MHz / 65536: the full 16-bit duty resolution (0.37 uA a step at 24 mA full scale)
FULL_SCALE_UA = const(24000)  # duty 100 % = 3.3 V into the stage = 24 mA: 4 mA at duty 16.7 %, 20 mA at 83.3 %
_REST = const(65535 - 2 * FULL_SCALE_UA)  # 65535 / FULL_SCALE_UA = 2 + _REST / FULL_SCALE_UA (exact)
OVER_UA = const(24000)  # the ceiling, manual 3.6's maximum output current (duty 100 %); the firmware stops at 23.2 mA


class AnalogOut:
    """pwm: machine.PWM on pins.AO_PWM. __call__(ua): the output current in microamps, 0..OVER_UA; the duty is
    round(ua * 65535 / FULL_SCALE_UA): 4000 uA -> 10923, 12000 uA -> 32768, 20000 uA -> 54613. The RC filter
    (2 x 10 kOhm, 1 uF: 16 Hz corner) leaves under 0.1 % ripple at 1907 Hz; the V-to-I stage's Rset (a trimmer,
    set at 20 mA) makes up for the 3.3 V rail's tolerance; there is no software calibration of the loop."""

    def __init__(self, pwm):
        self.pwm = pwm
        pwm.freq(FREQ_HZ)
        pwm.duty_u16(0)  # 0 mA until the meter has a value: a loop reads "wire break", not a false 4 mA
        self.ua = 0

    def __call__(self, ua):
        if ua < 0:
            ua = 0
        elif ua > OVER_UA:
            ua = OVER_UA
        self.ua = ua
        # round(ua * 65535 / FULL_SCALE_UA) split so no product passes 2**30 (a small int on the chip: no
        # allocation from Meter.feed, which runs heap-locked)
        self.pwm.duty_u16(2 * ua + (ua * _REST + FULL_SCALE_UA // 2) // FULL_SCALE_UA)

# SPDX-License-Identifier: MIT
# Firmware identity: one place for the version the LCD (Ver), the INFO registers and FC17/FC43 report.
# Bump VERSION (x 100) and DATE (YYYYMMDD) together for a release.
VERSION = 100  # 1.00
DATE = 20261126
TEXT = "%d.%02d" % (VERSION // 100, VERSION % 100)

# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A PABX emulator: a strict, stateful stand-in for a Dígitro PABX's CTI API, on loopback.

Run ``python3 -m emulator --help`` from the repository root. See docs/emulator.md.
"""

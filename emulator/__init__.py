"""A PABX emulator: a strict, stateful stand-in for a Dígitro PABX's CTI API, on loopback.

Run ``python3 -m emulator --help`` from the repository root. See docs/emulator.md.
"""

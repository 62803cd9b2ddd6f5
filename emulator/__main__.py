"""Entry point: ``python3 -m emulator``."""
import sys

from emulator.cli import main

sys.exit(main())

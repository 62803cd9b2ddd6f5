# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's knobs: PIN policy, lockout, latency, concurrency and fault injection.

Faults and latency can be changed while it runs (POST /_emulator/control),
so one emulator serves a whole chaos scenario.
"""
import dataclasses
import random
import threading

FAULT_KINDS = ('error_500', 'drop_after_apply', 'delayed_apply', 'latency_spike', 'channel_close')


@dataclasses.dataclass
class Settings:
    api_key: str = 'emulator-key'
    latency: float = 0.0            # seconds added to every operation
    jitter: float = 0.0             # up to this many seconds more, uniformly
    max_concurrent: int = 64        # operations served at once; more wait in line
    lockout_threshold: int = 5      # consecutive wrong passwords that lock a device or account; 0 = never
    keepalive: float = 5.0          # seconds between event-channel keep-alives
    pin_digits_only: bool = True
    pin_min_length: int = 4
    pin_max_length: int = 8
    pin_reject_pattern: str = ''    # a regex; a NOVA_SENHA matching it is refused with 400
    error_rate: float = 0.0         # answer 500 before doing anything
    drop_after_apply_rate: float = 0.0  # apply a change, then drop the connection unanswered
    delayed_apply_rate: float = 0.0     # answer 200 now, apply the change only after apply_delay
    apply_delay: float = 2.0
    spike_rate: float = 0.0         # add spike_latency to a request
    spike_latency: float = 1.0
    channel_close_rate: float = 0.0  # close the request's event channel (the request then gets 400)
    fault_seed: int = None

    RUNTIME = ('latency', 'jitter', 'lockout_threshold', 'pin_reject_pattern', 'error_rate', 'drop_after_apply_rate',
               'delayed_apply_rate', 'apply_delay', 'spike_rate', 'spike_latency', 'channel_close_rate')

    def __post_init__(self):
        self._random = random.Random(self.fault_seed)
        self._lock = threading.Lock()

    def update(self, changes):
        """Apply runtime changes; returns the names that are not runtime settings."""
        unknown = [name for name in changes if name not in self.RUNTIME]
        for name, value in changes.items():
            if name in self.RUNTIME:
                setattr(self, name, type(getattr(self, name))(value))
        return unknown

    def draw(self, rate):
        """True with probability ``rate``, from the seeded generator (reproducible scenarios)."""
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def delay(self):
        with self._lock:
            return self.latency + (self._random.uniform(0, self.jitter) if self.jitter else 0)

    def public(self):
        return {name: getattr(self, name) for name in self.RUNTIME}

# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Event channels: each open SSE stream owns one channel ID, valid while the stream stays open."""
import itertools
import random
import threading


class Channels:
    def __init__(self):
        self._open = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(random.SystemRandom().randint(1000, 9000))

    def open(self):
        with self._lock:
            channel_id = str(next(self._ids))
            self._open[channel_id] = threading.Event()
            return channel_id, self._open[channel_id]

    def is_open(self, channel_id):
        with self._lock:
            closing = self._open.get(channel_id)
        return closing is not None and not closing.is_set()

    def close(self, channel_id):
        with self._lock:
            closing = self._open.pop(channel_id, None)
        if closing is not None:
            closing.set()

    def close_all(self):
        with self._lock:
            ids = list(self._open)
        for channel_id in ids:
            self.close(channel_id)

    def count(self):
        with self._lock:
            return len(self._open)

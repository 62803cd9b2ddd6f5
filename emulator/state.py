# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PABX's durable state: devices, accounts, DAC sessions and wrong-attempt counters, in SQLite.

All reads come from memory; every change is written through to SQLite at once,
so a restarted emulator keeps every password (as a device keeps its own).
"""
import sqlite3
import threading

SCHEMA = '''
CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, password TEXT NOT NULL, dac INTEGER NOT NULL DEFAULT 0,
    dac_account TEXT, wrong_attempts INTEGER NOT NULL DEFAULT 0, consecutive_failures INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, password TEXT NOT NULL, name TEXT, category TEXT,
    wrong_attempts INTEGER NOT NULL DEFAULT 0, consecutive_failures INTEGER NOT NULL DEFAULT 0);
'''
KINDS = ('devices', 'accounts')


class PabxState:
    """Devices and accounts keyed by number. Every method is thread-safe."""

    def __init__(self, path):
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ':memory:':
            self._db.execute('PRAGMA journal_mode=WAL')
            self._db.execute('PRAGMA synchronous=NORMAL')
        self._db.executescript(SCHEMA)
        self.records = {kind: self._load(kind) for kind in KINDS}
        # the most wrong passwords in a row each record has received since this process started (tests read it;
        # a success or a console reset clears the running count, never this)
        self.most_in_a_row = {kind: dict((n, r['consecutive_failures']) for n, r in self.records[kind].items())
                              for kind in KINDS}

    def _load(self, kind):
        cursor = self._db.execute('SELECT * FROM %s' % kind)
        names = [c[0] for c in cursor.description]
        return {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}

    def empty(self):
        return not any(self.records.values())

    def load_seed(self, seed):
        """Replace everything with the devices and accounts of a seed document."""
        with self.lock:
            self._db.execute('BEGIN')
            for kind in KINDS:
                self._db.execute('DELETE FROM %s' % kind)
            for number, spec in seed.get('devices', {}).items():
                self._db.execute('INSERT INTO devices (id, password, dac) VALUES (?, ?, ?)',
                                 (str(number), str(spec['password']), int(bool(spec.get('dac')))))
            for number, spec in seed.get('accounts', {}).items():
                self._db.execute('INSERT INTO accounts (id, password, name, category) VALUES (?, ?, ?, ?)',
                                 (str(number), str(spec['password']), spec.get('name', ''),
                                  spec.get('category', 'USUARIO')))
            self._db.execute('COMMIT')
            self.records = {kind: self._load(kind) for kind in KINDS}

    def get(self, kind, number):
        return self.records[kind].get(number)

    def update(self, kind, number, **fields):
        with self.lock:
            record = self.records[kind][number]
            record.update(fields)
            assignments = ', '.join('%s = ?' % name for name in fields)
            self._db.execute('UPDATE %s SET %s WHERE id = ?' % (kind, assignments), list(fields.values()) + [number])

    def check_password(self, kind, number, password, lockout_threshold):
        """'ok', 'wrong' or 'locked'; counts wrong attempts as the device's lockout does."""
        with self.lock:
            record = self.records[kind][number]
            if lockout_threshold and record['consecutive_failures'] >= lockout_threshold:
                return 'locked'
            if record['password'] == password:
                if record['consecutive_failures']:
                    self.update(kind, number, consecutive_failures=0)
                return 'ok'
            self.update(kind, number, wrong_attempts=record['wrong_attempts'] + 1,
                        consecutive_failures=record['consecutive_failures'] + 1)
            most = self.most_in_a_row[kind]
            most[number] = max(most.get(number, 0), record['consecutive_failures'])
            return 'wrong'

    def snapshot(self):
        with self.lock:
            return {kind: {number: dict(record) for number, record in self.records[kind].items()} for kind in KINDS}

    def close(self):
        with self.lock:
            self._db.close()

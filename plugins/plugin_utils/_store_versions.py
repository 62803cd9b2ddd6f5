# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Earlier versions of a store file, kept beside it: ``<store>.versions/<generation>.store``.

A version is the encrypted file exactly as it was (a hard link to it, taken before the new one replaces it),
so keeping one costs no time and writes no plain text. Only the newest ``keep`` are kept.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import re
import shutil

SUFFIX = '.store'
_NAME = re.compile(r'^(\d+)\.store$')


def directory(path):
    return path + '.versions'


def version_path(path, generation):
    return os.path.join(directory(path), '%d%s' % (int(generation), SUFFIX))


def keep(path, generation, count):
    """Keep the file ``path`` (of ``generation``) as a version before it is replaced; drop all but the newest
    ``count`` versions. Nothing is kept when ``count`` is 0 or there is no file."""
    if count <= 0 or not os.path.exists(path):
        return
    where = directory(path)
    if not os.path.isdir(where):
        os.makedirs(where, 0o700)
    target = version_path(path, generation)
    if not os.path.exists(target):
        try:
            os.link(path, target)  # the same inode: the replace that follows makes a new one for the store
        except OSError:
            shutil.copy2(path, target)
    for old in generations(path)[count:]:
        os.remove(version_path(path, old))


def generations(path):
    """The generations kept as versions, newest first."""
    where = directory(path)
    if not os.path.isdir(where):
        return []
    found = [int(m.group(1)) for m in (_NAME.match(name) for name in os.listdir(where)) if m]
    return sorted(found, reverse=True)


def saved_at(path):
    """When a file was written, as the store's times are written (UTC)."""
    stamp = datetime.datetime.fromtimestamp(os.stat(path).st_mtime, tz=datetime.timezone.utc)
    return stamp.strftime('%Y-%m-%dT%H:%M:%SZ')


def summary(version, generation, saved, store, current):
    """One row of a listing of versions (the shape every backend returns): never a PIN."""
    found = store or {}
    return {'version': int(version), 'generation': int(generation), 'saved_at': saved,
            'devices': len(found.get('devices') or {}), 'accounts': len(found.get('accounts') or {}),
            'current': bool(current), 'readable': store is not None}

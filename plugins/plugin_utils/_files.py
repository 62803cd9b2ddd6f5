# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files the collection's action plugins write on the controller."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import tempfile


def write_atomically(path, content, mode, directory_mode):
    """Write ``content`` (bytes) to ``path`` through a temporary file and a rename.

    A crash leaves the old file or the new one, never half of one, and the new one is on disk (the directory
    too) when this returns; the directory is made with ``directory_mode`` when missing.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, directory_mode)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix='.' + os.path.basename(path) + '.')
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    sync_directory(directory)


def sync_directory(directory):
    """Make a rename in ``directory`` durable: without it, a power loss may bring the old file back."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)

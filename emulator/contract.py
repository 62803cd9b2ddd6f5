# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The contract table the collection's client uses, loaded from its one home.

The emulator reads plugins/module_utils/_api.py directly so that a corrected
slug or field name changes the client and the emulator together, and serves
the variant of ``--api-overrides FILE`` with the same ``contract()`` the
client's ``api_overrides`` option goes through.
"""
import importlib.util
import os

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'plugins', 'module_utils', '_api.py')
_SPEC = importlib.util.spec_from_file_location('digitro_pabx_api_contract', _PATH)
api = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(api)


def load(path=None):
    """The contract to serve: the stock one, or the overrides of a JSON file (the api_overrides shape)."""
    if not path:
        return api.STOCK

    with open(path) as handle:
        overrides = api.overrides_from_json(path, handle.read())
    return api.contract(overrides)

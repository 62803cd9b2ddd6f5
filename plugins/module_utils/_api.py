# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Dígitro CTI API contract: every path, slug and field name in one table.

This is private to the collection (the leading underscore) and is the ONLY
place that spells the vendor's wire names. The vendor publishes the
``altera-senha`` page in full; everything marked ``published=False`` below is
an assumption of this collection (see docs/api-contract.md). Correcting an
assumption is a one-line change here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple

Operation = namedtuple('Operation', ['slug', 'required', 'optional', 'published', 'writes'])

API_KEY_HEADER = 'x-api-key'                     # published
EVENTS_PATH = '/events'                          # assumed: SSE event channel
CHANNEL_OPEN_EVENT = 'EVENTO_DE_ABERTURA_DE_CANAL'  # published (name only)
CHANNEL_ID_FIELD = 'ID_CANAL'                    # assumed
REQUEST_PATH = '/requests/{channel_id}/{slug}'   # published
ERROR_FIELD = 'ERRO'                             # assumed (the emulator's error body)

# Body fields.
DEVICE = 'DISPOSITIVO'
DEVICE_PASSWORD = 'SENHA_DISPOSITIVO'
ACCOUNT = 'CONTA'
ACCOUNT_PASSWORD = 'SENHA'
NEW_PASSWORD = 'NOVA_SENHA'
DAC_OPERATION = 'OPERACAO'        # assumed
DAC_STATE = 'ESTADO'              # assumed
USER_NAME = 'NOME'                # assumed
USER_CATEGORY = 'CATEGORIA'       # assumed

DAC_LOGIN = 'LOGIN'               # assumed
DAC_LOGOUT = 'LOGOUT'             # assumed
DAC_LOGGED_IN = 'LOGADO'          # assumed
DAC_LOGGED_OUT = 'DESLOGADO'      # assumed

CHANGE_PASSWORD = 'change_password'
VERIFY_PASSWORD = 'verify_password'
VALIDATE_USER = 'validate_user'
DAC_LOGIN_LOGOUT = 'dac_login_logout'
DAC_QUERY = 'dac_query'

OPERATIONS = {
    CHANGE_PASSWORD: Operation('altera-senha', (DEVICE, DEVICE_PASSWORD, NEW_PASSWORD),
                               (ACCOUNT, ACCOUNT_PASSWORD), True, True),
    VERIFY_PASSWORD: Operation('verifica-senha', (DEVICE, DEVICE_PASSWORD),
                               (ACCOUNT, ACCOUNT_PASSWORD), False, False),
    VALIDATE_USER: Operation('valida-usuario', (DEVICE, DEVICE_PASSWORD, ACCOUNT, ACCOUNT_PASSWORD),
                             (), False, False),
    # SENHA is needed to LOGIN; a LOGOUT is authorised by the device's own password (assumed), which is
    # how a device ends whichever agent's session is open on it.
    DAC_LOGIN_LOGOUT: Operation('login-logout-dac', (DEVICE, DEVICE_PASSWORD, ACCOUNT, DAC_OPERATION),
                                (ACCOUNT_PASSWORD,), False, True),
    DAC_QUERY: Operation('consulta-dac', (DEVICE, DEVICE_PASSWORD), (), False, False),
}

SECRET_FIELDS = frozenset([DEVICE_PASSWORD, ACCOUNT_PASSWORD, NEW_PASSWORD])

# How the PABX's user attributes are returned by digitro_user_validate.
USER_ATTRIBUTES = {ACCOUNT: 'account', USER_NAME: 'name', USER_CATEGORY: 'category'}
DAC_STATES = {DAC_LOGGED_IN: 'logged_in', DAC_LOGGED_OUT: 'logged_out'}

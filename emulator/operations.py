# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What each CTI operation does to the state: strict validation first, then the device's answer.

``handle`` returns (status, body, apply): ``apply`` is the state change of a
write, run by the server so that it can delay it or drop the answer after it.
"""
import re

from emulator.contract import api


class Refusal(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _require_strings(body, op):
    if not isinstance(body, dict):
        raise Refusal(400, 'o corpo deve ser um objeto JSON')
    allowed = set(op.required) | set(op.optional)
    for name, value in body.items():
        if name not in allowed:
            raise Refusal(400, 'campo desconhecido: %s' % name)
        if not isinstance(value, str):
            raise Refusal(400, 'o campo %s deve ser uma string' % name)
    for name in op.required:
        if not body.get(name):
            raise Refusal(400, 'campo obrigatório ausente: %s' % name)


class Operations:
    def __init__(self, state, settings, contract=api.STOCK):
        self.state = state
        self.settings = settings
        self.contract = contract

    def handle(self, slug, body):
        """Checked in the PABX's wire names (the contract's), then worked under _api's names."""
        name, op = self.contract.by_slug[slug]
        _require_strings(body, op)
        body = self.contract.from_wire(body)
        device = self._authenticate('devices', body[api.DEVICE], body[api.DEVICE_PASSWORD])
        status, payload, apply = getattr(self, name)(body, device)
        return status, self.contract.to_wire(payload), apply

    def _w(self, name):
        return self.contract.wire(name)

    # -- authentication ------------------------------------------------------------------------
    def _authenticate(self, kind, number, password):
        noun = 'dispositivo' if kind == 'devices' else 'conta'
        if self.state.get(kind, number) is None:
            raise Refusal(400, '%s desconhecido(a): %s' % (noun, number))
        verdict = self.state.check_password(kind, number, password, self.settings.lockout_threshold)
        if verdict == 'locked':
            raise Refusal(403, '%s %s bloqueado(a) por excesso de tentativas' % (noun, number))
        if verdict == 'wrong':
            raise Refusal(403, 'senha incorreta para %s %s' % (noun, number))
        return number

    def _account(self, body):
        number = body.get(api.ACCOUNT)
        if not number:
            return None
        if not body.get(api.ACCOUNT_PASSWORD):
            raise Refusal(400, 'campo obrigatório ausente: %s (exigido com %s)' % (self._w(api.ACCOUNT_PASSWORD), self._w(api.ACCOUNT)))
        return self._authenticate('accounts', number, body[api.ACCOUNT_PASSWORD])

    def _known_account(self, number):
        if self.state.get('accounts', number) is None:
            raise Refusal(400, 'conta desconhecido(a): %s' % number)
        return number

    def _dac_device(self, device):
        if not self.state.get('devices', device)['dac']:
            raise Refusal(403, 'dispositivo %s não é um dispositivo DAC' % device)

    # -- operations ----------------------------------------------------------------------------
    def verify_password(self, body, device):
        self._account(body)
        return 200, {}, None

    def change_password(self, body, device):
        account = self._account(body)
        new = body[api.NEW_PASSWORD]
        self._check_policy(new)
        kind, number = ('accounts', account) if account else ('devices', device)
        return 200, {}, lambda: self.state.update(kind, number, password=new, consecutive_failures=0)

    def validate_user(self, body, device):
        account = self._account(body)
        record = self.state.get('accounts', account)
        return 200, {api.ACCOUNT: account, api.USER_NAME: record['name'] or '',
                     api.USER_CATEGORY: record['category'] or ''}, None

    def dac_login_logout(self, body, device):
        self._dac_device(device)
        operation = body[api.DAC_OPERATION]
        if operation == api.DAC_LOGIN or body.get(api.ACCOUNT_PASSWORD):
            account = self._account(body)
        else:  # a LOGOUT without SENHA: the device's own password authorises ending its session
            account = self._known_account(body[api.ACCOUNT])
        current = self.state.get('devices', device)['dac_account']
        if operation == api.DAC_LOGIN:
            if current and current != account:
                raise Refusal(403, 'outro agente (%s) está logado no dispositivo %s' % (current, device))
            return 200, {}, lambda: self.state.update('devices', device, dac_account=account)
        if operation == api.DAC_LOGOUT:
            if current and current != account:
                raise Refusal(403, 'o agente %s não está logado no dispositivo %s' % (account, device))
            return 200, {}, lambda: self.state.update('devices', device, dac_account=None)
        raise Refusal(400, '%s deve ser %s ou %s' % (self._w(api.DAC_OPERATION), api.DAC_LOGIN, api.DAC_LOGOUT))

    def dac_query(self, body, device):
        self._dac_device(device)
        current = self.state.get('devices', device)['dac_account']
        return 200, {api.DAC_STATE: api.DAC_LOGGED_IN if current else api.DAC_LOGGED_OUT,
                     api.ACCOUNT: current or ''}, None

    def _check_policy(self, pin):
        s = self.settings
        if s.pin_digits_only and not pin.isdigit():
            raise Refusal(400, '%s deve conter apenas dígitos' % self._w(api.NEW_PASSWORD))
        if not s.pin_min_length <= len(pin) <= s.pin_max_length:
            limits = (self._w(api.NEW_PASSWORD), s.pin_min_length, s.pin_max_length)
            raise Refusal(400, '%s deve ter de %d a %d caracteres' % limits)
        if s.pin_reject_pattern and re.search(s.pin_reject_pattern, pin):
            raise Refusal(400, '%s recusada pela política de senhas do PABX' % self._w(api.NEW_PASSWORD))

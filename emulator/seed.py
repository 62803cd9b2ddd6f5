# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make a site: a seed document for the emulator and the CSV of initial passwords an administrator would export."""
import csv
import random


def make_site(devices, accounts=0, dac_devices=0, first_device=100000, first_account=500000, random_seed=None):
    """A seed document with ``devices`` extensions (the first ``dac_devices`` are DAC) and ``accounts`` accounts."""
    rng = random.Random(random_seed)

    def pin():
        return '%06d' % rng.randrange(10 ** 6)

    seed = {'devices': {}, 'accounts': {}}
    for index in range(devices):
        seed['devices'][str(first_device + index)] = {'password': pin(), 'dac': index < dac_devices}
    for index in range(accounts):
        seed['accounts'][str(first_account + index)] = {
            'password': pin(), 'name': 'Agente %04d' % (index + 1), 'category': 'AGENTE' if index < dac_devices
            else 'USUARIO'}
    return seed


def write_csv(seed, path):
    """The initial passwords as the PABX administration exports them: kind,number,password."""
    with open(path, 'w', newline='') as handle:
        writer = csv.writer(handle)
        writer.writerow(['kind', 'number', 'password'])
        for kind, singular in (('devices', 'device'), ('accounts', 'account')):
            for number, spec in seed[kind].items():
                writer.writerow([singular, number, spec['password']])

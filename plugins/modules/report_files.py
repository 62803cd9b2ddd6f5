#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: report_files
short_description: Write a run's report as a text file for people and a JSON file for machines
version_added: 1.0.0
description:
  - Writes C(NAME.txt) and C(NAME.json) into a directory on the controller, each replaced atomically, with mode
    C(0640); the directory is created with mode C(0750) when missing.
  - The C(password_rotation) and C(password_audit) roles write their reports with it. It runs on the controller
    as an action plugin, without module processes, which matters for reports of many thousand rows.
  - Reports hold no secrets; do not pass any.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.controller_file
  - digitro.pabx.controller_file.controller_action
options:
  directory:
    description: The directory on the controller.
    type: path
    required: true
  name:
    description: The files' name without extension, for example V(pabx1-rotation-20261127T030000Z).
    type: str
    required: true
  text:
    description: The content of the report for people.
    type: str
    required: true
  json:
    description: The content of the report for machines, a JSON document as text.
    type: str
    required: true
seealso:
  - module: digitro.pabx.ansible_vault_store
'''

EXAMPLES = r'''
- name: Write the reports of a run
  digitro.pabx.report_files:
    directory: "{{ playbook_dir }}/reports"
    name: "{{ inventory_hostname }}-check"
    text: "Everything is fine.\n"
    json: "{{ {'pabx': inventory_hostname, 'counts': {'checked': 0}} | ansible.builtin.to_nice_json }}"
'''

RETURN = r'''
text_path:
  description: The path of the report for people.
  returned: always
  type: str
  sample: /srv/pabx/reports/pabx1-rotation-20261127T030000Z.txt
json_path:
  description: The path of the report for machines.
  returned: always
  type: str
  sample: /srv/pabx/reports/pabx1-rotation-20261127T030000Z.json
'''

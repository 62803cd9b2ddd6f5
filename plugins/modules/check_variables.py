#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: check_variables
short_description: Fail on variables that look like options of digitro.pabx but are none, such as misspellings
version_added: 1.0.0
description:
  - Looks at the names of the variables of the current host (inventory, group and host vars, vars files, extra
    vars, facts) and fails when one starts with a prefix of this collection (O(prefixes)) but is not a known
    name. Each unknown name is listed with the closest known one (I(did you mean)).
  - Ansible ignores a misspelled variable, so that, for example, C(password_rotation_targes=1000) would rotate
    every extension of the PABX instead of one. The playbooks of the collection run this check first.
  - The known names are read at run time from the collection's own files, so they cannot drift from the roles,
    every option of every entry point in C(roles/*/meta/argument_specs.yml), every variable of the roles'
    C(defaults/) and C(vars/), every name the roles and playbooks set (C(set_fact), C(register), C(loop_var),
    C(vars), C(set_stats)) or read in a Jinja expression, and the collection-wide C(digitro_url),
    C(digitro_api_key), C(digitro_validate_certs), C(digitro_ca_path), C(digitro_hosts) and C(digitro_dry_run).
    Names that start with C(__) are always accepted. They are computed once per process.
  - Only names are looked at; no value is ever shown.
  - It runs on the controller as an action plugin, without a connection to the host.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.controller_file.controller_action
options:
  prefixes:
    description:
      - The name prefixes that belong to this collection. A variable that starts with one of them must be known.
    type: list
    elements: str
    default: [password_rotation_, password_audit_, credential_store_, dac_sessions_, digitro_]
  ignore:
    description:
      - Variables of your own that start with one of the O(prefixes) but are not options of the collection,
        allowed as they are.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Runs the same check in check mode; it changes nothing in any mode.
    support: full
notes:
  - To see the options of a role, run C(ansible-doc -t role digitro.pabx.password_rotation) (or C(password_audit),
    C(credential_store), C(dac_sessions)).
seealso:
  - module: digitro.pabx.digitro_password
'''

EXAMPLES = r'''
# The collection's roles run this first; a play of your own can too, before anything else.
- name: Fail on unknown digitro.pabx variables
  digitro.pabx.check_variables:

- name: Allow a variable of your own that shares the prefix
  digitro.pabx.check_variables:
    ignore:
      - digitro_site_owner
'''

RETURN = r'''
unknown:
  description: The names that start with one of the O(prefixes) and are not known. Names only, never values.
  returned: always
  type: list
  elements: str
  sample: [password_rotation_targes]
suggestions:
  description: For each unknown name that has a close known name, that name.
  returned: always
  type: dict
  sample: {"password_rotation_targes": "password_rotation_targets"}
msg:
  description: What was found, and on failure, what to do about it.
  returned: always
  type: str
  sample: >-
    Unknown digitro.pabx variable for pabx1: password_rotation_targes is not an option of digitro.pabx
    (did you mean password_rotation_targets?). ...
'''

"""Prepare ansible-test's --venv bootstrap on a machine that reaches PyPI but not ansible's ci-files host.

Puts scripts/get_pip_standin.py where ansible-test looks for its cached
get-pip script, and downloads the wheels it installs: pip, and on older
ansible-test (2.16) the setuptools and wheel it pins too (without them the
stand-in fails with "No matching distribution found for setuptools==67.7.2").
Run it with the Python of the ansible-test to prepare.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import ansible_test

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'get_pip_standin.py')
CACHE = os.path.expanduser('~/.ansible/test/cache')
WHEELS = os.path.join(CACHE, 'wheels')


def pinned_packages():
    """The packages ansible-test installs into each virtual environment, as {name: version}."""
    requirements = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(requirements) as handle:
        defaults = re.search(r'default_packages = dict\((.*?)\)', handle.read(), re.S).group(1)
    return dict(re.findall(r"(\w+)='([0-9.]+)'", defaults))


def main():
    packages = pinned_packages()
    missing = ['%s==%s' % (name, version) for name, version in sorted(packages.items())
               if not glob.glob(os.path.join(WHEELS, '%s-%s-*.whl' % (name, version)))]
    if missing:
        subprocess.check_call([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary', ':all:',
                               '--dest', WHEELS] + missing)
    target = os.path.join(CACHE, 'get_pip_%s.py' % packages['pip'].replace('.', '_'))
    if not os.path.exists(target):  # else ansible-test's own script, or ours from an earlier run
        shutil.copy(SOURCE, target)
    return 0


if __name__ == '__main__':
    sys.exit(main())

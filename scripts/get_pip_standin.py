"""Stand-in for pip's get-pip.py, for ansible-test's --venv where ci-files is out of reach.

ansible-test runs its bootstrap script with pip-install arguments (such as
``pip==24.2``) in an empty virtual environment. This installs the bundled pip
with ensurepip, then the requested pip from wheels that
scripts/prepare_ansible_test.py downloaded beside this file beforehand
(ansible-test clears the environment, so this pip could not reach the index
through the machine's certificate settings; the newer pip it installs can).
"""
import ensurepip
import os
import subprocess
import sys

WHEELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'wheels')


def main():
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    return subprocess.call([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-index',
                            '--find-links', WHEELS] + args)


if __name__ == '__main__':
    sys.exit(main())

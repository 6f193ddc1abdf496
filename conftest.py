"""Root pytest configuration of this repository.

Everything general (the claim marker and ledger, ``--claims-json``, the Hypothesis profiles, one
thread per test) comes from the package's pytest plugin, numerics/pytest_plugin.py, which installing
the package registers (entry point ``pytest11``) for any project. What stays here is this
repository's own: pytester, for the plugin's test.
"""

pytest_plugins = ["pytester"]      # tests/test_pytest_plugin.py runs the installed plugin in a scratch project

"""The README's Python example runs as printed (only the dictionary path is
changed), so the README cannot drift from the package."""

import os
import re
import subprocess
import sys

import kvdict
from conftest import REPO


def test_readme_example(kvbuild, tmp_path):
    readme = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "README.md has no python example"
    path = str(tmp_path / "pypi.kvd")
    kvdict.build(path, os.path.join(REPO, "testdata", "pypi-sample.tsv"), kvbuild=kvbuild)
    script = tmp_path / "example.py"
    script.write_text(blocks[0].replace("/tmp/pypi.kvd", path))
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(kvdict.__file__)))
    env = dict(os.environ, PYTHONPATH=pkg)
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[b'") and "None" not in lines[0]  # requests and numpy are in the sample
    assert lines[1] == "[None]"  # leftpad is not

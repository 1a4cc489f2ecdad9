from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from unitax.cli import app

runner = CliRunner(env={"COLUMNS": "240"})


def test_unify_default_is_the_street_collection(tmp_path):
    output = tmp_path / "taxonomy.json"
    result = runner.invoke(app, ["unify", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "212 nodes, 177 leaves" in result.output
    assert "from 9 label spaces" in result.output
    assert "cityscapes" in result.output and "gtsdb" in result.output
    assert "conflict report" in result.output
    assert len(json.loads(output.read_text())["nodes"]) == 212


def test_unify_with_files(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - kind: same\n    labels: [cityscapes/car, idd/car]\n    name: car\n"
    )
    result = runner.invoke(
        app, ["unify", "--space", "cityscapes", "--space", "idd", "--rules", str(rules)]
    )
    assert result.exit_code == 0, result.output
    assert "from 2 label spaces" in result.output


def test_conflicts_lists_findings():
    result = runner.invoke(app, ["conflicts", "--kind", "ignored"])
    assert result.exit_code == 0, result.output
    assert "rectification border" in result.output


def test_errors_exit_with_a_message_not_a_traceback(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - kind: is_a\n    child: cityscapes/rider\n    parent: persn\n"
    )
    command = [
        sys.executable,
        "-m",
        "unitax",
        "unify",
        "-s",
        "cityscapes",
        "-r",
        str(rules),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "unknown concept 'persn'" in result.stderr
    assert "Traceback" not in result.stderr

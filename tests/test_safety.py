"""Safety (issue 8): no code execution from strings, no unpickling, no network.

A static scan of the library's source (theory/, numerics/) by its syntax tree, plus run-time
checks that user strings are parsed, never evaluated, and that the main job runs offline."""
import ast
import socket
from pathlib import Path

import pytest

from numerics.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for package in ("theory", "numerics") for p in (ROOT / package).rglob("*.py"))
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "joblib", "marshal", "shelve", "urllib", "urllib3",
                  "requests", "http", "httpx", "socket", "ftplib", "smtplib"}
UNSAFE_CALLS = {"eval", "exec", "compile", "__import__"}


def _findings(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if isinstance(func, ast.Name) and name in UNSAFE_CALLS:     # builtins, not model.eval()
                found.append(f"call {name}()")
            elif name.startswith("fetch_"):                             # scikit-learn downloaders
                found.append(f"call {name}()")
            elif ast.unparse(func) == "torch.load" and not any(
                    k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords):
                found.append("torch.load() without weights_only=True")
    return found


def test_the_library_never_evaluates_unpickles_or_downloads():
    assert len(SOURCES) > 20
    report = {str(p.relative_to(ROOT)): _findings(ast.parse(p.read_text())) for p in SOURCES}
    assert {path: found for path, found in report.items() if found} == {}


@pytest.mark.parametrize("source, expected", [
    ("import pickle", ["import pickle"]),
    ("from urllib.request import urlopen", ["from urllib.request import"]),
    ("x = eval('1')", ["call eval()"]),
    ("torch.load('m.pt')", ["torch.load() without weights_only=True"]),
    ("torch.load('m.pt', weights_only=False)", ["torch.load() without weights_only=True"]),
    ("model.eval(); json.load(fh)", []),
    ("sklearn.datasets.fetch_openml('mnist')", ["call fetch_openml()"]),
    ("torch.load('m.pt', weights_only=True)", []),
])
def test_negative_control_the_scan_sees_unsafe_code(source, expected):
    assert _findings(ast.parse(source)) == expected


def test_cli_values_are_parsed_not_evaluated(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["show", "canonical", "--rho", "__import__('os').getpid()"])
    assert exit_info.value.code == 2
    assert "--rho must be a number such as 0.9 or 9/10" in capsys.readouterr().err


def test_the_main_job_runs_with_the_network_disabled(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert main(["report", "--claims", "N1,G1", "--no-figures", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "claims.json").exists()

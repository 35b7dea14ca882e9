"""The package as a user installs it: the wheel built from this tree, in a fresh virtual
environment that has only the light dependency (lark), runs ``hlx``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import lark
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What the build reads: the sources, not the corpora or the virtual environment.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "hlx_formats", "hlx_moe", "grammars")
#: The compiled codecs in a wheel (hlx_formats._speedups, built where there is a C compiler).
COMPILED = re.compile(r"hlx_formats/_speedups\.[^/]*(\.so|\.pyd)$")
HAS_COMPILER = shutil.which(str(sysconfig.get_config_var("CC") or "cc").split()[0]) is not None


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _build_wheel(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None) -> tuple[Path, str]:
    """The wheel of a copy of this tree (built offline, with the setuptools installed here; no
    compiled module of this tree copied), and what the build printed."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "checkpoints", "*.so", "*.pyd")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    command = (sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, source)
    done = _run(*command, cwd=source, env=env)
    (found,) = dist.glob("hlx-*.whl")
    return found, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_wheel(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel and lark (linked from this environment: no network)."""
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=home).stdout.strip())
    light = home / "light-deps"
    light.mkdir()
    lark_dir = Path(lark.__file__).parent
    for path in [lark_dir, *lark_dir.parent.glob("lark-*.dist-info")]:
        (light / path.name).symlink_to(path)
    (site / "light_deps.pth").write_text(f"{light}\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=home)
    return home


def _hlx(home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "HLX_DEBUG", "VIRTUAL_ENV", "HLX_PURE_PYTHON")}
    env.update(HF_HUB_OFFLINE="1", PYTHONIOENCODING="utf-8")
    return _run(home / "bin" / "hlx", *args, cwd=cwd, env=env)


@pytest.mark.slow
def test_the_wheel_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode("utf-8")
    assert "License-Expression: MIT" in text and "Classifier: Typing :: Typed" in text
    assert "Project-URL" not in text
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "hlx_formats/py.typed" in names and "hlx_formats/grammars/hlxl.lark" in names
    assert "hlx_formats/__main__.py" in names
    compiled = [name for name in names if COMPILED.search(name)]
    assert len(compiled) == (1 if HAS_COMPILER else 0), compiled


@pytest.mark.slow
def test_the_wheel_builds_without_a_compiler(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No C compiler: the build goes on without the compiled codecs and says so in one line."""
    env = {**os.environ, "CC": "/bin/false"}
    found, printed = _build_wheel(tmp_path_factory, env)
    with zipfile.ZipFile(found) as archive:
        assert not [name for name in archive.namelist() if COMPILED.search(name)]
    assert "hlx: the compiled codecs could not be built" in printed and "the pure-Python codecs are used" in printed


@pytest.mark.slow
def test_the_installed_command_runs_outside_the_source_tree(installed: Path, tmp_path: Path) -> None:
    version = _hlx(installed, "--version", cwd=tmp_path).stdout
    assert version.startswith("hlx ") and version.endswith("(compiled codecs)\n" if HAS_COMPILER else "(pure-Python codecs)\n")
    assert _hlx(installed, "convert", "--to", "lc-t", "{14: {@0: 42}}", cwd=tmp_path).stdout == "{C:14,0=42}\n"
    demo = _hlx(installed, "demo", cwd=tmp_path)
    assert "HLX value formats: a demo" in demo.stdout
    python = installed / "bin" / "python"
    where = _run(python, "-c", "import hlx_formats; print(hlx_formats.__file__)", cwd=tmp_path).stdout
    assert str(installed) in where  # the installed copy, not this tree


@pytest.mark.slow
def test_the_installed_corpus_command(installed: Path, tmp_path: Path) -> None:
    _hlx(installed, "corpus", "build", "--root", "tmp", "--scale", "0.02", cwd=tmp_path)  # the command, not the sizes
    assert len(list((tmp_path / "tmp").rglob("*.jsonl"))) == 19  # 6 folders of 3 splits, and the rewrites' held-out validation half
    assert _hlx(installed, "corpus", "check", "--root", "tmp", "--scale", "0.02", cwd=tmp_path).stdout.startswith("ok: ")

"""The lock file, requirements.txt, still satisfies pyproject.toml's [project].dependencies."""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# The environment the lock is compiled for (see its header): CPython 3.11 on Linux.
TARGET = {"python_version": "3.11", "python_full_version": "3.11.0", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "os_name": "posix", "sys_platform": "linux",
          "platform_system": "Linux", "platform_machine": "x86_64", "extra": ""}


@dataclass
class Pin:
    requirement: Requirement
    hashes: list[str]
    via: set[str] = field(default_factory=set)


def dependencies(pyproject_text):
    """Return the [project].dependencies of a pyproject.toml text."""
    return tomllib.loads(pyproject_text)["project"]["dependencies"]


def read_lock(lock_text):
    """Map each package pinned in a uv/pip-compile lock text to its pin, hashes and `# via` names."""
    pins, current = {}, None
    for line in lock_text.replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            requirement = Requirement(line.split("--hash=")[0])
            current = pins[canonicalize_name(requirement.name)] = Pin(requirement, re.findall(r"--hash=sha256:\w+", line))
        elif current and (via := re.fullmatch(r"\s*# (via\b)?\s*(.*?)\s*", line)) and via[2]:
            current.via.add(via[2])
    return pins


def dependency_problems(dependency, pins):
    """List how the lock fails one pyproject dependency (name, version range, extras)."""
    wanted = Requirement(dependency)
    if wanted.marker and not wanted.marker.evaluate(TARGET):
        return []
    pin = pins.get(canonicalize_name(wanted.name))
    if pin is None:
        return [f"{wanted.name} is not pinned"]
    problems = [f"{wanted.name}=={version} is outside {wanted.specifier}"
                for version in pinned_versions(pin) if not wanted.specifier.contains(version, prereleases=True)]
    missing = {canonicalize_name(extra) for extra in wanted.extras} - {canonicalize_name(e) for e in pin.requirement.extras}
    return problems + [f"{wanted.name} is pinned without extra [{extra}]" for extra in sorted(missing)]


def pinned_versions(pin):
    """Return the version a pin fixes with ==, as a one-item list, or none."""
    specifiers = list(pin.requirement.specifier)
    exact = len(specifiers) == 1 and specifiers[0].operator == "==" and "*" not in specifiers[0].version
    return [specifiers[0].version] if exact else []


def needed(pins, dependency_names):
    """Return the pinned names reachable through `# via` from pyproject.toml's dependencies."""
    reached = {name for name, pin in pins.items()
               if name in dependency_names and any(via.endswith("(pyproject.toml)") for via in pin.via)}
    while grown := {name for name, pin in pins.items()
                    if name not in reached and any(canonicalize_name(via) in reached for via in pin.via)}:
        reached |= grown
    return reached


def pin_problems(name, pins, dependency_names):
    """List how one pin is unsafe (no exact version, no hash) or orphaned (nothing in pyproject.toml needs it)."""
    pin, problems = pins[name], []
    if not pinned_versions(pin):
        problems.append(f"{name} is not pinned with ==: {pin.requirement}")
    if not pin.hashes:
        problems.append(f"{name} has no --hash=sha256:")
    if name not in needed(pins, dependency_names):
        problems.append(f"{name} is pinned but nothing in pyproject.toml needs it (via {sorted(pin.via)})")
    return problems


def problems(pyproject_text, lock_text):
    """List every way a lock text fails a pyproject.toml text."""
    wanted, pins = dependencies(pyproject_text), read_lock(lock_text)
    names = {canonicalize_name(Requirement(dependency).name) for dependency in wanted}
    return ([problem for dependency in wanted for problem in dependency_problems(dependency, pins)]
            + [problem for name in pins for problem in pin_problems(name, pins, names)])


PYPROJECT = (ROOT / "pyproject.toml").read_text()
LOCK = (ROOT / "requirements.txt").read_text()
DEPENDENCIES = dependencies(PYPROJECT)
PINS = read_lock(LOCK)
DEPENDENCY_NAMES = {canonicalize_name(Requirement(dependency).name) for dependency in DEPENDENCIES}


@pytest.mark.parametrize("dependency", DEPENDENCIES)
def test_dependency_is_pinned_inside_its_range(dependency):
    assert dependency_problems(dependency, PINS) == []


@pytest.mark.parametrize("name", PINS)
def test_pin_is_exact_hashed_and_needed(name):
    assert pin_problems(name, PINS, DEPENDENCY_NAMES) == []


def test_readme_gives_the_command_in_the_lock_header():
    command = LOCK.splitlines()[1].removeprefix("#").strip()
    assert command.startswith("uv pip compile pyproject.toml ")
    assert command in (ROOT / "README.md").read_text()


SMALL_PYPROJECT = """
[project]
dependencies = ["Flask>=3.1,<4", "Flask-Mail>=0.10", "psycopg[binary]>=3.2", "pywin32>=300; sys_platform == 'win32'"]
"""
SMALL_LOCK = """\
# This file was autogenerated by uv via the following command:
#    uv pip compile pyproject.toml --generate-hashes -o requirements.txt
blinker==1.9.0 \\
    --hash=sha256:b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf
    # via
    #   flask
    #   flask-mail
flask==3.1.3 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000001
    # via
    #   flasky (pyproject.toml)
    #   flask-mail
flask-mail==0.10.0 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000002
    # via flasky (pyproject.toml)
psycopg[binary]==3.3.9 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000003
    # via flasky (pyproject.toml)
psycopg-binary==3.3.9 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000004
    # via psycopg
"""
DOCTORED = {
    "new dependency": (SMALL_PYPROJECT.replace('"Flask>=3.1,<4"', '"Flask>=3.1,<4", "requests>=2"'), SMALL_LOCK,
                       "requests is not pinned"),
    "raised floor": (SMALL_PYPROJECT.replace("Flask>=3.1,<4", "Flask>=3.2,<4"), SMALL_LOCK,
                     "Flask==3.1.3 is outside <4,>=3.2"),
    "stripped extra": (SMALL_PYPROJECT, SMALL_LOCK.replace("psycopg[binary]==", "psycopg=="),
                       "psycopg is pinned without extra [binary]"),
    "range, not pin": (SMALL_PYPROJECT, SMALL_LOCK.replace("flask==3.1.3", "flask>=3.1.3"),
                       "flask is not pinned with ==: flask>=3.1.3"),
    "no hash": (SMALL_PYPROJECT, re.sub(r"blinker==1.9.0 \\\n.*\n", "blinker==1.9.0\n", SMALL_LOCK),
                "blinker has no --hash=sha256:"),
    "dropped dependency": (SMALL_PYPROJECT.replace('"Flask-Mail>=0.10", ', ""), SMALL_LOCK,
                           "flask-mail is pinned but nothing in pyproject.toml needs it"),
    "orphan of an orphan": (SMALL_PYPROJECT.replace('"psycopg[binary]>=3.2", ', ""), SMALL_LOCK,
                            "psycopg-binary is pinned but nothing in pyproject.toml needs it"),
}


def test_checker_passes_a_matching_lock_and_skips_other_platforms():
    assert problems(SMALL_PYPROJECT, SMALL_LOCK) == []


@pytest.mark.parametrize(("pyproject", "lock", "message"), DOCTORED.values(), ids=DOCTORED)
def test_checker_reports_a_lock_that_no_longer_fits(pyproject, lock, message):
    assert (pyproject, lock) != (SMALL_PYPROJECT, SMALL_LOCK)
    assert message in "\n".join(problems(pyproject, lock))

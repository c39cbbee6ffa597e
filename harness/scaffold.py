"""``harness new connector NAME --service KIND``: the three files a connector needs -- its
source, its fixture, its scenario module -- and its entry point, written so that
``pytest scenarios/NAME`` collects at once and fails naming what to write next."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from harness.services import registry

TEMPLATES = Path(__file__).parent / "data" / "scaffold"
GROUP = '[project.entry-points."connectors.sources"]'
NAME = re.compile(r"[a-z][a-z0-9_]*")


class ScaffoldError(ValueError):
    pass


@dataclass(frozen=True)
class Scaffold:
    name: str
    service: str
    package: str  # where the source module goes, dotted: connectors.sources, acme_connectors

    @property
    def words(self) -> dict[str, str]:
        short = "".join(part.capitalize() for part in self.name.split("_"))
        return {
            "name": self.name,
            "title": short,
            "service": self.service,
            "module": f"{self.package}.{self.name}",
            "cls": f"{short}DataSource",
            "cls_short": short,
            "fixture": f"{short}Fixture",
            "constant": self.name.upper(),
            "imports": self._imports(f"{short}Fixture"),
        }

    def _imports(self, fixture: str) -> str:
        """Sorted as isort sorts them: the harness is first-party here, third-party in a
        project of its own."""
        ours = f"from fixtures.{self.name} import {fixture}"
        harness = "\n".join(
            (
                "from harness.scenario import ConnectorScenario",
                "from harness.suite import StandardSuite",
            )
        )
        if self.package == "connectors.sources":
            return f"{ours}\n{harness}"
        return f"{harness}\n\n{ours}"

    def files(self, root: Path) -> dict[Path, str]:
        words = self.words
        # One package per source, its role files beside it (source.py first), as
        # connectors/sources/<name>/ in this project.
        source = root.joinpath(*self.package.split("."), self.name, "source.py")
        return {
            source: _render("source.py.tmpl", words),
            root / "fixtures" / f"{self.name}.py": _render("fixture.py.tmpl", words),
            root / "scenarios" / self.name / f"test_{self.name}.py": _render(
                "scenario.py.tmpl", words
            ),
        }

    def entry_point(self) -> str:
        return f'{self.name} = "{self.package}.{self.name}.source:{self.words["cls"]}"'


def _render(template: str, words: dict[str, str]) -> str:
    return Template((TEMPLATES / template).read_text()).substitute(words)


def check(name: str, service: str) -> None:
    if not NAME.fullmatch(name):
        raise ScaffoldError(
            f"connector name {name!r}: use lower-case letters, digits and _, starting with a "
            "letter (it is a module name and the connector's service_type)"
        )
    known = [kind.name for kind in registry.all_kinds()]
    if service not in known:
        raise ScaffoldError(f"service {service!r} is not a service kind; known: {', '.join(known)}")


def default_package(root: Path) -> str:
    """This project's own layout (connectors/sources) when it is there; otherwise a package
    of the project's own, so that ours is never shadowed."""
    if (root / "connectors" / "sources" / "__init__.py").exists():
        return "connectors.sources"
    return "project_connectors"


def register(pyproject: Path, line: str) -> bool:
    """The entry point under ``[project.entry-points."connectors.sources"]``, added to the
    table when it exists, with the table otherwise. False when it was already there."""
    text = pyproject.read_text()
    if line in text:
        return False
    if GROUP in text:
        text = text.replace(GROUP + "\n", f"{GROUP}\n{line}\n", 1)
    else:
        text = text.rstrip("\n") + f"\n\n{GROUP}\n{line}\n"
    tmp = pyproject.with_suffix(".toml.tmp")
    tmp.write_text(text)
    tmp.replace(pyproject)  # atomic: pip or an editor may be reading it
    return True


def new_connector(root: Path, name: str, service: str, package: str | None = None) -> list[str]:
    """Write the files (refusing to overwrite any) and register the entry point; returns
    what was done, one line each."""
    check(name, service)
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        raise ScaffoldError(f"{root} has no pyproject.toml: run this at a project's root")
    scaffold = Scaffold(name, service, package or default_package(root))
    files = scaffold.files(root)
    existing = [str(path.relative_to(root)) for path in files if path.exists()]
    if existing:
        raise ScaffoldError(f"not overwriting {', '.join(existing)}")
    done = []
    for package_dir in _package_dirs(root, f"{scaffold.package}.{name}"):
        package_dir.mkdir(parents=True, exist_ok=True)
        (package_dir / "__init__.py").touch()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        done.append(f"wrote {path.relative_to(root)}")
    conftest = root / "conftest.py"
    if not conftest.exists():  # pytest then puts the root on sys.path: fixtures/ imports
        conftest.write_text('"""The project root: fixtures/ and scenarios/ import from here."""\n')
        done.append("wrote conftest.py")
    if register(pyproject, scaffold.entry_point()):
        done.append(f"registered {scaffold.entry_point()} in pyproject.toml")
    done.append(f"next: pip install -e . (registers the entry point), then pytest scenarios/{name}")
    return done


def _package_dirs(root: Path, package: str) -> list[Path]:
    parts = package.split(".")
    return [root.joinpath(*parts[: i + 1]) for i in range(len(parts))]

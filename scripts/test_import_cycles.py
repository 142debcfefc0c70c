#!/usr/bin/env python3
"""Tests of scripts/import-cycles.py (`make lint` runs them before the check itself)."""

import importlib.util
import tempfile
import unittest
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "import_cycles", Path(__file__).resolve().parent / "import-cycles.py")
import_cycles = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_cycles)


def crate(files: dict) -> Path:
    """A crate's `src` in a temporary directory: path → text."""
    src = Path(tempfile.mkdtemp()) / "src"
    for path, text in files.items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_text(text)
    return src


def found(files: dict) -> list:
    return sorted(sorted(c) for c in import_cycles.cycles(import_cycles.import_graph(crate(files))))


class ImportCycles(unittest.TestCase):
    def test_siblings_through_nested_braces_in_super(self):
        # The case the checker once missed: `super::` from a file module, inside nested braces.
        cycle = found({
            "lib.rs": "mod scim;",
            "scim/mod.rs": "mod group; mod resource; mod user;",
            "scim/resource.rs": "use super::{group, user::{self, Projection}};",
            "scim/group.rs": "use super::resource::Resource;",
            "scim/user.rs": "pub struct Projection;",
        })
        self.assertEqual(cycle, [[("scim", "group"), ("scim", "resource")]])

    def test_sibling_files_naming_each_other(self):
        cycle = found({
            "lib.rs": "mod two_factor;",
            "two_factor/mod.rs": "pub mod recovery; pub mod totp;",
            "two_factor/totp.rs": "use super::recovery;",
            "two_factor/recovery.rs": "fn f() { crate::two_factor::totp::verify(); }",
        })
        self.assertEqual(cycle, [[("two_factor", "recovery"), ("two_factor", "totp")]])

    def test_a_child_using_its_parents_items_is_no_cycle(self):
        # mod.rs is its children's front door, as lib.rs is the crate's.
        self.assertEqual(found({
            "lib.rs": "mod tokens;",
            "tokens/mod.rs": "mod form; pub struct Page; fn f() { form::draw(); }",
            "tokens/form.rs": "use super::Page; use crate::tokens::Page as P;",
        }), [])

    def test_one_way_imports_are_no_cycle(self):
        self.assertEqual(found({
            "lib.rs": "mod a; mod b;",
            "a.rs": "use crate::b::{self, Thing};",
            "b.rs": "// use crate::a; (a comment)\\npub struct Thing;",
        }), [])


if __name__ == "__main__":
    unittest.main()

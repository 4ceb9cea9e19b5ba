"""The standard library, imported broadly once while the component is built.

Only modules imported while the component is built exist at run time (componentize-py snapshots the
interpreter then), so ``mcp_guest`` imports this module first, before anything patches the standard library.
``STDLIB_LOADED`` names what was imported.
"""

import importlib
import sys

# Left out: modules with side effects on import, interactive tools, and packages for other platforms.
_SKIP = {
    "antigravity",
    "this",
    "idlelib",
    "tkinter",
    "turtle",
    "turtledemo",
    "ensurepip",
    "venv",
    "pydoc",
    "pydoc_data",
    "test",
    "lib2to3",
    "webbrowser",
    "pdb",
    "code",
    "codeop",
    "doctest",
    "unittest",
}
_SUBMODULES = [
    "xml.etree.ElementTree",
    "xml.dom.minidom",
    "html.parser",
    "html.entities",
    "urllib.parse",
    "email.message",
    "email.utils",
    "email.mime.text",
    "json.decoder",
    "collections.abc",
    "importlib.resources",
    "importlib.metadata",
    "logging.handlers",
    "concurrent.futures",
    "os.path",
    "encodings.idna",
    "encodings.utf_16",
    "encodings.utf_32",
    "encodings.latin_1",
    "encodings.ascii",
    "encodings.cp1252",
    "encodings.unicode_escape",
    "encodings.raw_unicode_escape",
    "encodings.base64_codec",
    "encodings.hex_codec",
    "zoneinfo._common",
    "zoneinfo._tzpath",
    "zoneinfo._zoneinfo",
    "_pydecimal",
    "_strptime",
]
STDLIB_LOADED: list[str] = []
for _name in sorted(sys.stdlib_module_names) + _SUBMODULES:
    if _name in _SKIP or (_name.startswith("_") and _name not in _SUBMODULES):
        continue
    try:
        importlib.import_module(_name)
        STDLIB_LOADED.append(_name)
    except BaseException:
        pass

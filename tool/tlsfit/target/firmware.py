"""tool/firmware/build.py (the Cortex-M image builder and QEMU runner) as a module.

    from .firmware import fw
    fw.build(...), fw.run_firmware(...), fw.load_target(...)

It is loaded from its file under the name "tlsfit_firmware_build" (the name
tests/test_targets.py uses too, so there is one instance per process): a bare
`import build` could pick up the repository's build/ directory instead.
"""
import importlib.util
import sys

from ..core import paths

_NAME = "tlsfit_firmware_build"


def _load():
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    path = paths.repo_root() / "tool" / "firmware" / "build.py"
    spec = importlib.util.spec_from_file_location(_NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


fw = _load()

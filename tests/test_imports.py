"""Import costs: ``hyposvi --help`` must not wait for torch (issue 13: ``--help`` under 2 s).

A fresh interpreter per check (``sys.modules`` of the test process already holds everything).
These are not timing tests: they check which heavy libraries an import pulls in.
"""

import json
import subprocess
import sys

import pytest

#: Libraries that take seconds to import on a busy machine; the CLI loads them per command.
HEAVY = ("torch", "sklearn", "scipy", "obspy", "matplotlib", "numpy")


def _modules_after(code: str) -> list[str]:
    """The HEAVY modules loaded after running ``code`` in a fresh interpreter."""
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cli_and_its_parser_import_no_heavy_library():
    # build_parser() registers every subcommand, as `hyposvi --help` does
    assert _modules_after("import obspy_hyposvi.cli\n"
                          "obspy_hyposvi.cli.build_parser()") == []


def test_help_prints_without_torch():
    code = ("import contextlib, io\nfrom obspy_hyposvi.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    assert main(['--help']) == 0\n"
            "assert 'locate' in out.getvalue()")
    assert _modules_after(code) == []


def test_package_import_is_lazy_but_public_names_resolve():
    assert "torch" not in _modules_after("import obspy_hyposvi")
    import obspy_hyposvi

    for name in obspy_hyposvi.__all__:
        assert getattr(obspy_hyposvi, name) is not None
    from obspy_hyposvi import Locator
    from obspy_hyposvi.locator import Locator as defined

    assert Locator is defined
    assert obspy_hyposvi.locate.likelihood.ErrorModel is obspy_hyposvi.ErrorModel  # subpackages
    assert set(obspy_hyposvi.__all__) <= set(dir(obspy_hyposvi))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        obspy_hyposvi.no_such_name


def test_locating_imports_no_validation_reference():
    # obspy_hyposvi.reference holds validation solvers (fast marching needs scikit-fmm, a test
    # extra): the locator, the CLI and the ObsPy bridge work without them
    probe = ("import sys\nimport obspy_hyposvi.cli, obspy_hyposvi.locator, "
             "obspy_hyposvi.bridge, obspy_hyposvi.eikonet.model\n"
             "print(sorted(m for m in sys.modules if m.startswith('obspy_hyposvi.reference') "
             "or m == 'skfmm'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"

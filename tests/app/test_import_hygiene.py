"""Start-up stays lean: opening the app imports neither the HTTP client nor the documents."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_module_does_not_import_httpx_or_the_documents():
    code = (
        "import sys, incident_tui.cli, incident_tui.ui.app\n"
        "heavy = [m for m in ('httpx', 'httpx_sse', 'incident_tui.docs', 'starlette', 'uvicorn', 'tinydb')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""

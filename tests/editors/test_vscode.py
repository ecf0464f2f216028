"""VS Code end to end: the packaged extension in code-server, driven in headless Chromium.

Run ``tests/editors/setup_editors.sh`` once (code-server 4.100.3, chromium, playwright-core),
then ``pytest -m editor tests/editors/test_vscode.py``. The extension starts the real server
(``<this python> -m lsp_server``) on the test checkpoint; random weights write nonsense, so the
assertions are about mechanics: ghost text shows, typing its first character keeps the rest
(answered by the server without a model run), Tab inserts exactly it, the palette command
puts a docstring under the ``def``. Screenshots go to ``test-output/vscode/`` (and to
``editors/vscode/screenshots/`` with ``UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import msgspec
import pytest

from tests.editors.pinned import SAME_ON_EVERY_CPU

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "editors" / "vscode"
DRIVER = Path(__file__).resolve().parent / "vscode" / "drive.mjs"
CACHE = Path(os.environ.get("INFILL_EDITOR_CACHE", REPO / ".cache" / "editors"))
CODE_SERVER = CACHE / "code-server" / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT = CACHE / "playwright"
CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = REPO / "test-output" / "vscode"

SAMPLE = """import math


def circle_area(radius):
    return math.pi * radius ** 2


def total(values):
    result = 0
    for value in values:
        result += value
    return result
"""
# Typed at the end of the file; VS Code's Python indentation rules add the body's 4 spaces.
# (Where the shipped model's suggestion parses: one that adds a syntax error is never shown.)
TYPED = "\n\ndef mean(values):\nreturn"
TYPED_RESULT = "\n\ndef mean(values):\n    return"
DOCSTRING_LINE = 4  # 0-based: the body line of circle_area, where the cursor goes


def missing_tools() -> list[str]:
    """What setup_editors.sh would install and is not here."""
    needed = {
        "code-server": CODE_SERVER,
        "chromium": CHROMIUM,
        "playwright-core": PLAYWRIGHT / "node_modules" / "playwright-core",
    }
    missing = [name for name, path in needed.items() if not path.exists()]
    return missing + [tool for tool in ("node", "npm") if shutil.which(tool) is None]


def squash(text: str) -> str:
    """Text without spaces and tabs (how wide a tab is drawn is the editor's business)."""
    return re.sub(r"[ \t]+", "", text)


def free_port() -> int:
    """An unused localhost TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def package_contributions() -> dict:
    """`contributes` of the extension's package.json."""
    return json.loads((EXTENSION / "package.json").read_text())["contributes"]


def test_settings_mirror_server_config():
    """Every server setting is declared in package.json with the server's default.

    The extension sends no value for "" or null (the server's own default: the shipped model
    for ``modelPath``, the command line for ``logLevel``, decoding by the model's precision for
    ``threshold`` and ``stepsPerToken``).
    """
    from lsp_server.config import ServerConfig

    declared = package_contributions()["configuration"]["properties"]
    defaults = ServerConfig()
    # VS Code shows ghost text: the suggest-list item would duplicate it (and be selected first)
    assert declared["infill.features.completion"]["default"] is False
    declared["infill.features.completion"]["default"] = defaults.features.completion
    for field in msgspec.structs.fields(ServerConfig):
        if field.name == "features":
            for sub in msgspec.structs.fields(type(defaults.features)):
                key = f"infill.features.{sub.encode_name}"
                assert declared[key]["default"] == getattr(defaults.features, sub.name), key
            continue
        expected = getattr(defaults, field.name)
        key = f"infill.{field.encode_name}"
        if expected is None or field.name == "model_path":
            assert declared[key]["default"] in ("", None), key
            continue
        assert declared[key]["default"] == expected, key
    source = (EXTENSION / "src" / "extension.ts").read_text()
    forwarded = re.search(r"const SERVER_KEYS = \[(.*?)\];", source, re.DOTALL).group(1)
    assert set(re.findall(r"'(\w+)'", forwarded)) == {
        field.encode_name for field in msgspec.structs.fields(ServerConfig)}  # all sent


@pytest.fixture(scope="module")
def vsix() -> Path:
    """The extension, built by editors/vscode/build.sh (npm ci, tsc, vsce package)."""
    if missing := missing_tools():
        pytest.skip(f"not installed: {', '.join(missing)} (run tests/editors/setup_editors.sh)")
    build = [str(EXTENSION / "build.sh")]
    done = subprocess.run(build, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    path = Path(done.stdout.strip().splitlines()[-1])
    assert path.is_file() and path.suffix == ".vsix"
    return path


@pytest.fixture
def code_server(request, vsix, product_checkpoint, tmp_path):
    """A fresh code-server with the extension installed and the real server configured.

    Parametrize indirectly with a dict to override user settings.
    """
    home, workspace = tmp_path / "home", tmp_path / "workspace"
    user_dir, ext_dir = tmp_path / "ud", tmp_path / "ext"
    for folder in (home, workspace, user_dir / "User", ext_dir):
        folder.mkdir(parents=True)
    (workspace / "shapes.py").write_text(SAMPLE)
    (tmp_path / "config.yaml").write_text("auth: none\ncert: false\n")
    settings = {
        "infill.pythonPath": sys.executable,
        "infill.server.env": {"PYTHONPATH": str(REPO)},
        "infill.modelPath": str(product_checkpoint),
        "infill.device": "cpu",
        **{f"infill.{key}": value for key, value in SAME_ON_EVERY_CPU.items()},
        "infill.logLevel": "debug",
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "extensions.ignoreRecommendations": True,
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "security.workspace.trust.enabled": False,
        "chat.commandCenter.enabled": False,
        "editor.inlineSuggest.enabled": True,
        # No completion list popping up over the ghost text and taking the Tab key.
        "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
        "editor.suggestOnTriggerCharacters": False,
        "editor.minimap.enabled": False,
        **getattr(request, "param", {}),
    }
    (user_dir / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }
    base = [
        str(CODE_SERVER),
        "--config",
        str(tmp_path / "config.yaml"),
        "--user-data-dir",
        str(user_dir),
        "--extensions-dir",
        str(ext_dir),
    ]
    installed = subprocess.run(
        [*base, "--install-extension", str(vsix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert any(p.name.startswith("infill.infill-lsp-") for p in ext_dir.iterdir()), installed.stdout

    port = free_port()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    tag = re.sub(r"\W+", "-", request.node.name).strip("-")
    log = (OUTPUT / f"{tag}.code-server.log").open("w")
    proc = subprocess.Popen(
        [
            *base,
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--auth",
            "none",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            str(workspace),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield {
            "url": f"http://127.0.0.1:{port}/?folder={workspace}",
            "workspace": workspace,
            "user_dir": user_dir,
            "tag": tag,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        for server_log in user_dir.glob("logs/**/*Infill Language Server*.log"):
            shutil.copy(server_log, OUTPUT / f"{tag}.infill-server.log")


def wait_for_http(url: str, proc: subprocess.Popen, attempts: int = 120) -> None:
    """Poll until code-server answers (or died)."""
    for _ in range(attempts):
        assert proc.poll() is None, f"code-server exited: see the logs in {OUTPUT}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"code-server did not answer at {url}")


def server_log(code_server, waiting_for: str, timeout: float = 15) -> str:
    """The server's output channel as VS Code logs it, once it holds ``waiting_for``."""
    deadline = time.monotonic() + timeout
    while True:
        logs = code_server["user_dir"].glob("logs/**/*Infill Language Server*.log")
        text = "".join(path.read_text(errors="replace") for path in logs)
        if waiting_for in text or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def drive(code_server, **extra) -> dict:
    """Run the browser driver; returns its observations."""
    options = {
        "file": "shapes.py",
        "typed": TYPED,
        **extra,
        "tag": code_server["tag"],
        "url": code_server["url"],
        "docstringLine": DOCSTRING_LINE,
        "shots": str(OUTPUT),
        "playwright": str(PLAYWRIGHT),
        "chromium": str(CHROMIUM),
        "timeoutMs": 45000,
    }
    done = subprocess.run(
        ["node", str(DRIVER), json.dumps(options)], capture_output=True, text=True, timeout=420
    )
    (OUTPUT / f"{code_server['tag']}.driver.log").write_text(done.stderr)
    (OUTPUT / f"{code_server['tag']}.observed.json").write_text(done.stdout)
    lines = done.stdout.strip().splitlines()
    observed = json.loads(lines[-1]) if lines else {}
    assert done.returncode == 0, (
        f"driver failed at {observed.get('failedStep')!r}: {observed.get('error')}\n"
        f"status bar: {observed.get('statusBar')!r}\n{done.stderr[-3000:]}"
    )
    return observed


@pytest.mark.editor
def test_ghost_text_tab_and_docstring(code_server):
    """Toggle ghost text off (none shows) and on; type, see ghost text, cycle to another
    suggestion and back, type its first character, Tab inserts the rest; "Infill: Insert
    docstring" adds a docstring."""
    observed = drive(code_server)
    saved = (code_server["workspace"] / "shapes.py").read_text()

    assert "Infill" in observed["statusReady"]
    # "Infill: Toggle inline suggestions" turns ghost text off for the user, and back on.
    # The status item showed it (the driver waited for the icon), and on again it shows again.
    assert observed["ghostWhileOff"] == 0
    assert "Infill" in observed["statusOff"] and "Infill" in observed["statusOn"]
    ghost = "\n".join([observed["ghost"]["inline"], *observed["ghost"]["lines"]])
    assert ghost.strip(), f"empty ghost text: {observed['ghost']}"

    # Tab inserted the ghost text right after what was typed, on screen and on disk. Spaces
    # and tabs are compared loosely: the DOM draws a tab as spaces.
    assert squash("\n".join(observed["accepted"])).endswith(squash(ghost.split("\n")[-1]))
    assert squash(saved).endswith(squash(TYPED_RESULT + ghost)), (
        f"ghost text {ghost!r} is not what Tab inserted:\n{saved}"
    )

    # Alt+] asks the server explicitly: it answers several suggestions to cycle through.
    assert observed["cycled"]["inline"] and observed["cycled"] != observed["ghost"]

    # Typing the first character of the ghost text leaves the rest of it on screen, and the
    # server answers VS Code's new request from the suggestion it made (no model run).
    if observed["typedThrough"] is not None:
        assert observed["typedThrough"]["ghost"]["inline"] == observed["ghost"]["inline"][1:]
        assert "typed through the last suggestion" in server_log(code_server, "typed through")

    # The docstring sits right under `def circle_area`, indented as the body, and is closed
    # before the original body line.
    lines = saved.splitlines()
    def_line = lines.index("def circle_area(radius):")
    body = lines.index("    return math.pi * radius ** 2")
    doc = "\n".join(lines[def_line + 1 : body])
    assert body > def_line + 1, f"nothing inserted under the def:\n{saved}"
    indent, quote = lines[def_line + 1][:4], lines[def_line + 1][4:7]
    assert indent == "    " and quote in ('"""', "'''"), doc
    assert doc.count(quote) == 2, f"docstring not closed before the body:\n{doc}"
    assert saved.startswith("import math\n\n\ndef circle_area(radius):\n")

    # The server's code actions reach the editor's quick-fix menu.
    assert any("Fix this function" in label for label in observed["codeActions"]), observed
    assert "def total(values):\n    result = 0\n" in saved

    for shot in ("ghost.png", "docstring.png"):
        assert (OUTPUT / shot).stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        target = EXTENSION / "screenshots"
        target.mkdir(exist_ok=True)
        for shot in ("ghost.png", "docstring.png"):
            shutil.copy(OUTPUT / shot, target / shot)


@pytest.mark.editor
@pytest.mark.parametrize(
    "code_server", [{"infill.server.command": ["/nonexistent/bin/infill-lsp"]}], indirect=True
)
def test_bad_server_command_shows_an_error_then_recovers(code_server):
    """A wrong server command: error status and message; fixing the setting restarts it."""
    # The workspace settings override the user's bad command with a good one.
    settings_path = code_server["workspace"] / ".vscode" / "settings.json"
    recover_with = {"infill.server.command": [sys.executable, "-m", "lsp_server"]}
    observed = drive(
        code_server, expect="error", settingsPath=str(settings_path), recoverWith=recover_with
    )
    assert "Infill" in observed["statusError"]
    assert "/nonexistent/bin/infill-lsp" in observed["notifications"], observed
    assert "Infill" in observed["statusRecovered"]


SUGGEST_TYPED = "\n\ndef mean(values):\nreturn circ"  # the list offers `circle_area`
# before the list can open, and the list cannot take it (acceptSuggestionOnEnter off)


@pytest.mark.editor
@pytest.mark.parametrize("code_server", [{
    "editor.quickSuggestions": {"other": "on", "comments": "off", "strings": "off"},
    "editor.acceptSuggestionOnEnter": "off"}], indirect=True)
def test_ghost_text_continues_the_item_selected_in_the_suggest_list(code_server):
    """With VS Code's suggest list open on `circ` (`circle_area` selected), the ghost text shows
    beside it and continues `circle_area`: VS Code sent the selected item, the server completed the
    line as if it were inserted."""
    observed = drive(code_server, suggestList=True, typed=SUGGEST_TYPED)
    assert observed["selected"] == "circle_area"
    assert observed["listStillOpen"], "the ghost text closed the suggest list"
    log = server_log(code_server, "continuing the selected completion item")
    assert "continuing the selected completion item 'circle_area'" in log
    # Drawn after the typed `circ`: the rest of the item, then the server's continuation of it
    ghost = observed["ghost"]
    assert ghost["item"] == "le_area" and ghost["continuation"].strip(), ghost
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copy(OUTPUT / "suggest-list.png", EXTENSION / "screenshots" / "suggest-list.png")


NOTEBOOK_TYPED = "import math\n\nradius = 2\narea = math.pi *"  # the shipped model suggests here


@pytest.mark.editor
def test_ghost_text_in_a_notebook_cell(code_server):
    """In a new Jupyter notebook (VS Code's own notebook editor; the server gets its cells with
    notebookDocument sync), ghost text shows in the Python cell and Tab inserts it there."""
    observed = drive(code_server, notebook=True, typed=NOTEBOOK_TYPED)
    assert "Infill" in observed["statusReady"]
    ghost = observed["ghost"]
    assert ghost.strip(), "empty ghost text in the cell"
    assert squash(observed["typedCell"]) == squash(NOTEBOOK_TYPED)
    assert squash(observed["acceptedCell"]) == squash(observed["typedCell"] + ghost)
    assert (OUTPUT / "notebook.png").stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copy(OUTPUT / "notebook.png", EXTENSION / "screenshots" / "notebook.png")

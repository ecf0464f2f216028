// Drive code-server in headless Chromium through the Infill user flow and report what the
// editor showed. Assertions live in tests/editors/test_vscode.py; this script only acts,
// observes, takes screenshots and fails loudly when the UI never reaches a step.
//
//   node drive.mjs '<json options>'   (prints one JSON line with the observations)
//
// options: url, file (explorer label), typed (text typed at the end of the file),
// docstringLine (0-based line to put the cursor on before "Insert docstring"),
// shots (screenshot folder), playwright (folder holding node_modules/playwright-core),
// timeoutMs (per step), expect ('error': stop at the failed start), settingsPath and
// recoverWith (settings to write after the failure; the server must then come up);
// notebook: a new Jupyter notebook instead of `file`, `typed` goes into its cell;
// suggestList: type `typed` with the suggest list popping up (quick suggestions on) and read
// the ghost text while the list is open.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const opts = JSON.parse(process.argv[2]);
const require = createRequire(path.join(opts.playwright, 'package.json'));
const { chromium } = require('playwright-core');

const STEP = opts.timeoutMs ?? 60000;
const log = (msg) => process.stderr.write(`[drive] ${msg}\n`);
const observed = { steps: [] };

const browser = await chromium.launch({
    executablePath: opts.chromium ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(STEP);
page.on('pageerror', (err) => log(`pageerror: ${err.message}`));

async function step(name, fn) {
    log(name);
    try {
        const value = await fn();
        observed.steps.push(name);
        return value;
    } catch (err) {
        observed.failedStep = name;
        observed.error = String(err?.message ?? err);
        await page.screenshot({ path: path.join(opts.shots, `${opts.tag ?? 'drive'}.failure.png`) })
            .catch(() => {});
        observed.statusBar = await statusText().catch(() => null);
        observed.notifications = await page.locator('.notifications-toasts').innerText().catch(() => null);
        throw err;
    }
}

const editor = () => page.locator('.monaco-editor[data-uri$="' + opts.file + '"]').first();
const statusText = () => page.locator('.statusbar-item').filter({ hasText: 'Infill' }).first().innerText();

/** Undo the editor's rendering: non-breaking spaces, control characters drawn as U+2400.. pictures. */
await page.addInitScript(() => {
    window.domText = (s) => s.replace(/\u00a0/g, ' ')
        .replace(/[\u2400-\u241f]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x2400))
        .replace(/\u2421/g, '\x7f');
});

/** The ghost text as the DOM shows it: the inline part, then the extra lines of the view zone. */
function readGhost() {
    return editor().evaluate((root) => {
        const text = (el) => domText(el.textContent);
        const inline = [...root.querySelectorAll('.ghost-text-decoration')].map(text).join('');
        // Further lines live in a view zone below the cursor line, one .view-line each.
        const lines = [...root.querySelectorAll('.suggest-preview-text .view-line')]
            .filter((line) => line.querySelector('.ghost-text')).map(text);
        return { inline, lines };
    });
}

/** The visible text of an editor (the file's by default), top to bottom, without ghost text
 * (the text fits the viewport). */
function readViewLines(root = editor()) {
    return root.evaluate((root) => [...root.querySelectorAll('.view-lines .view-line')]
        .map((el) => {
            const line = el.cloneNode(true);
            line.querySelectorAll('[class*="ghost-text"]').forEach((ghost) => ghost.remove());
            return { top: parseFloat(el.style.top), text: domText(line.textContent) };
        })
        .sort((a, b) => a.top - b.top).map((l) => l.text));
}

/** Wait for ghost text in an editor; ask for it (Alt+\\) when typing brought none. */
async function waitForGhost(root) {
    const ghost = root.locator('.ghost-text-decoration, .ghost-text');
    try {
        await ghost.first().waitFor({ timeout: STEP / 3 });
    } catch {
        log('no automatic suggestion yet; triggering one (Alt+\\)');
        await page.keyboard.press('Alt+Backslash');
        await ghost.first().waitFor();
    }
}

/** Poll `read` until `done(value)` holds; returns the value. */
async function waitUntil(read, done, timeout) {
    const deadline = Date.now() + timeout;
    for (;;) {
        const value = await read();
        if (done(value)) return value;
        if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
        await page.waitForTimeout(250);
    }
}

/** Poll `read` until two reads in a row agree and `done(value)` holds (a half-rendered
 * suggestion is never recorded); returns the value. */
async function waitSettled(read, done, timeout) {
    let previous = null;
    return waitUntil(async () => {
        const current = JSON.stringify(await read());
        const settled = current === previous;
        previous = current;
        return { settled, value: JSON.parse(current) };
    }, ({ settled, value }) => settled && done(value), timeout).then(({ value }) => value);
}

async function save() {
    await page.keyboard.press('Control+S');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached' });
}

async function runCommand(label) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${label}`);
    await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: label }).first().waitFor();
    await page.keyboard.press('Enter');
}

/** Fix the settings on disk (null deletes a key); the extension must restart the server. */
async function recover() {
    observed.statusRecovered = await step('settings fixed: server restarts and gets ready', async () => {
        mkdirSync(path.dirname(opts.settingsPath), { recursive: true });
        const settings = existsSync(opts.settingsPath) ? JSON.parse(readFileSync(opts.settingsPath, 'utf8')) : {};
        for (const [key, value] of Object.entries(opts.recoverWith)) {
            if (value === null) delete settings[key];
            else settings[key] = value;
        }
        writeFileSync(opts.settingsPath, JSON.stringify(settings, null, 2));
        await serverReady();
        return statusText();
    });
}

async function serverReady() {
    const ready = page.locator('.statusbar-item').filter({ hasText: 'Infill' })
        .filter({ has: page.locator('.codicon-check') });
    await ready.first().waitFor({ timeout: STEP * 2 });
}

/** The inline toggle, ghost text, cycling, typing through it, Tab, "Infill: Insert docstring", the
 * quick-fix menu. */
async function happyPath() {
    observed.statusReady = await step('server ready', async () => {
        await serverReady();
        return statusText();
    });
    const ghostCount = () => editor().locator('.ghost-text-decoration, .ghost-text').count();
    const toggled = page.locator('.statusbar-item').filter({ hasText: 'Infill' })
        .filter({ has: page.locator('.codicon-circle-slash') });
    observed.statusOff = await step('Infill: Toggle inline suggestions turns them off', async () => {
        await runCommand('Infill: Toggle inline suggestions');
        await toggled.first().waitFor();
        return statusText();
    });
    await step('type at the end of the file', async () => {
        await editor().locator('.view-lines').click();
        await page.keyboard.press('Control+End');
        await page.keyboard.type(opts.typed, { delay: 25 });
    });
    observed.ghostWhileOff = await step('no ghost text while off, even when asked (Alt+\\)', async () => {
        await page.waitForTimeout(2000);
        await page.keyboard.press('Alt+Backslash');
        await page.waitForTimeout(3000);
        return ghostCount();
    });
    observed.statusOn = await step('toggle again: on, and retype the last character', async () => {
        await runCommand('Infill: Toggle inline suggestions');
        await toggled.first().waitFor({ state: 'detached' });
        // A new document version: VS Code reuses its answer for the same version and position.
        await page.keyboard.press('Backspace');
        await page.keyboard.type(opts.typed.slice(-1));
        return statusText();
    });
    observed.ghost = await step('ghost text appears', async () => {
        await waitForGhost(editor());
        return waitSettled(readGhost, () => true, STEP / 3);
    });
    await page.screenshot({ path: path.join(opts.shots, 'ghost.png') });
    observed.cycled = await step('Alt+] shows another suggestion, Alt+[ the first again', async () => {
        const first = JSON.stringify(observed.ghost);
        await page.keyboard.press('Alt+BracketRight');
        const other = await waitUntil(readGhost, (g) => g.inline && JSON.stringify(g) !== first, STEP / 3);
        await page.keyboard.press('Alt+BracketLeft');
        await waitUntil(readGhost, (g) => JSON.stringify(g) === first, STEP / 3);
        return other;
    });
    observed.typedThrough = await step('type the first character of the ghost text', async () => {
        const head = observed.ghost.inline[0];
        if (!head) return null; // the suggestion starts on a new line
        await page.keyboard.type(head);
        const rest = observed.ghost.inline.slice(1);
        // VS Code asks again after the keystroke; the server answers with the rest.
        await page.waitForTimeout(1500);
        return { head, ghost: await waitUntil(readGhost, (g) => g.inline === rest, STEP / 3) };
    });
    observed.accepted = await step('Tab accepts the ghost text', async () => {
        await page.keyboard.press('Tab');
        await editor().locator('.ghost-text-decoration, .ghost-text').first().waitFor({ state: 'detached' });
        await save();
        return readViewLines();
    });
    observed.docstring = await step('Infill: Insert docstring', async () => {
        await editor().locator('.view-lines').click();
        await page.keyboard.press('Control+Home');
        for (let i = 0; i < opts.docstringLine; i++) await page.keyboard.press('ArrowDown');
        await page.keyboard.press('End');
        const before = JSON.stringify(await readViewLines());
        await runCommand('Infill: Insert docstring');
        await waitUntil(readViewLines, (lines) => JSON.stringify(lines) !== before, STEP * 2);
        await page.screenshot({ path: path.join(opts.shots, 'docstring.png') });
        await save();
        return readViewLines();
    });
    observed.codeActions = await step('code actions at the cursor (Ctrl+.)', async () => {
        await page.keyboard.press('Control+Period');
        const rows = page.locator('.action-widget .monaco-list-row');
        await rows.filter({ hasText: 'Fix this function' }).first().waitFor();
        const labels = await rows.allInnerTexts();
        await page.keyboard.press('Escape');
        return labels.map((label) => label.trim());
    });
    observed.statusAfter = await statusText();
}

/** A new Jupyter notebook (VS Code's own notebook editor): ghost text in its cell, and Tab. */
async function notebookPath() {
    const cell = page.locator('.notebook-editor .cell-editor-container .monaco-editor').last();
    await step('Create: New Jupyter Notebook', async () => {
        await page.locator('.explorer-folders-view').waitFor();
        await page.waitForTimeout(2000); // the palette lists extension commands once they load
        await runCommand('New Jupyter Notebook');
        await cell.locator('.view-lines').waitFor();
    });
    await step('type in its cell', async () => {
        await cell.locator('.view-lines').click();
        await page.keyboard.type(opts.typed, { delay: 25 });
    });
    observed.statusReady = await step('server ready', async () => {
        await serverReady();
        return statusText();
    });
    const readCell = async () => (await readViewLines(cell)).join('\n');
    observed.typedCell = await step('ghost text appears in the cell', async () => {
        await waitForGhost(cell);
        await page.waitForTimeout(500);
        return readCell();
    });
    observed.ghost = await cell.evaluate((root) => [...root.querySelectorAll('.ghost-text-decoration')]
        .map((el) => domText(el.textContent)).join(''));
    await page.screenshot({ path: path.join(opts.shots, 'notebook.png') });
    observed.acceptedCell = await step('Tab accepts it', async () => {
        await page.keyboard.press('Tab');
        await cell.locator('.ghost-text-decoration, .ghost-text').first().waitFor({ state: 'detached' });
        return readCell();
    });
}

/** Typing opens the suggest list; the ghost text shows beside it, continuing its selected item. */
async function suggestListPath() {
    observed.statusReady = await step('server ready', async () => {
        await serverReady();
        return statusText();
    });
    await step('type at the end of the file', async () => {
        await editor().locator('.view-lines').click();
        await page.keyboard.press('Control+End');
        await page.keyboard.type(opts.typed, { delay: 25 });
    });
    const list = page.locator('.suggest-widget.visible');
    observed.selected = await step('the suggest list is open', async () => {
        await list.waitFor();
        return (await list.locator('.monaco-list-row.focused .label-name').first().innerText()).trim();
    });
    observed.ghost = await step('ghost text beside the open list', async () => {
        await editor().locator('.ghost-text-decoration, .ghost-text').first().waitFor();
        // VS Code draws the rest of the selected item as ghost text, then the server's
        // continuation of it in the "preview" style; wait until both have settled.
        const read = () => editor().evaluate((root) => [...root.querySelectorAll(
            '.ghost-text-decoration, .ghost-text-decoration-preview')]
            .map((el) => [el.classList.contains('ghost-text-decoration-preview'), domText(el.textContent)]));
        const parts = await waitSettled(read, (p) => p.some(([preview]) => preview), STEP / 3);
        observed.listStillOpen = await list.isVisible();
        return { item: parts.filter(([p]) => !p).map(([, t]) => t).join(''),
            continuation: parts.filter(([p]) => p).map(([, t]) => t).join('') };
    });
    await page.screenshot({ path: path.join(opts.shots, 'suggest-list.png') });
}

try {
    await step('open workbench', async () => {
        await page.goto(opts.url);
        await page.locator('.monaco-workbench').waitFor();
    });
    if (!opts.notebook) {
        await step('open file from explorer', async () => {
            await page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${opts.file}"]`).click();
            await editor().locator('.view-lines').waitFor();
        });
        observed.statusLoading = await step('status bar item appears', statusText);
    }
    if (opts.expect === 'error') {
        observed.statusError = await step('status bar shows the error', async () => {
            const failed = page.locator('.statusbar-item').filter({ hasText: 'Infill' })
                .filter({ has: page.locator('.codicon-error') });
            await failed.first().waitFor();
            await page.locator('.notifications-toasts .notification-toast').first().waitFor();
            await page.screenshot({ path: path.join(opts.shots, 'error.png') });
            observed.notifications = await page.locator('.notifications-toasts').innerText();
            return statusText();
        });
        if (opts.recoverWith) await recover();
    } else if (opts.notebook) {
        await notebookPath();
    } else if (opts.suggestList) {
        await suggestListPath();
    } else {
        await happyPath();
    }
} finally {
    process.stdout.write(JSON.stringify(observed) + '\n');
    await browser.close();
}

// The Infill client: starts `infill-lsp` over stdio and forwards settings. Inline completion
// and the code actions come from vscode-languageclient; this file adds the two palette commands
// (run the server's command at the cursor), the inline toggle, the status bar item and a restart
// on command changes.
import {
    commands, ConfigurationTarget, ExtensionContext, LogOutputChannel, window, workspace,
    WorkspaceConfiguration,
} from 'vscode';
import {
    DidChangeConfigurationNotification, ExecuteCommandRequest, Executable, LanguageClient,
    LanguageClientOptions, RevealOutputChannelOn, State,
} from 'vscode-languageclient/node';
import { InfillStatus, StatusItem } from './status';

const LANGUAGES = ['python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust'];
// The keys the server reads (lsp_server/config.py); the rest of the section is client-only.
const SERVER_KEYS = [
    'modelPath', 'device', 'precision', 'threshold', 'stepsPerToken', 'maxSpanTokens', 'lineTokens',
    'blockTokens', 'contextTokens', 'syntaxAttempts', 'explicitCandidates', 'lengthSearch',
    'knownNames', 'wholeFileCheck', 'fixMargin', 'debounceMs', 'disabledLanguages', 'logLevel',
    'features',
];
const LAUNCH_KEYS = ['infill.pythonPath', 'infill.server.command', 'infill.server.env'];

let client: LanguageClient | undefined;
let output: LogOutputChannel;
let status: StatusItem;

export async function activate(context: ExtensionContext): Promise<void> {
    output = window.createOutputChannel('Infill Language Server', { log: true });
    status = new StatusItem('infill.showOutput');
    context.subscriptions.push(
        output,
        status,
        commands.registerCommand('infill.fixFunctionAtCursor', () => runAtCursor('infill.fixFunction')),
        commands.registerCommand('infill.insertDocstringAtCursor', () => runAtCursor('infill.insertDocstring')),
        commands.registerCommand('infill.toggleInlineCompletion', toggleInlineCompletion),
        commands.registerCommand('infill.restartServer', restart),
        commands.registerCommand('infill.showOutput', () => output.show(true)),
        workspace.onDidChangeConfiguration(async (event) => {
            status.setInlineEnabled(inlineEnabled());
            if (LAUNCH_KEYS.some((key) => event.affectsConfiguration(key))) {
                await restart();
            } else if (event.affectsConfiguration('infill') && client?.isRunning()) {
                await client.sendNotification(DidChangeConfigurationNotification.type, {
                    settings: { infill: serverSettings() },
                });
            }
        }),
    );
    status.setInlineEnabled(inlineEnabled());
    await start();
}

export async function deactivate(): Promise<void> {
    const old = client;
    client = undefined;
    // A client whose server never started throws on stop(); there is nothing to stop then.
    await old?.stop().catch(() => undefined);
}

async function start(): Promise<void> {
    const clientOptions: LanguageClientOptions = {
        documentSelector: [
            ...LANGUAGES.flatMap((language) => [
                { scheme: 'file', language },
                { scheme: 'untitled', language },
            ]),
            // Python cells of any notebook: the server reads the other cells as context.
            { notebook: '*', language: 'python' },
        ],
        initializationOptions: serverSettings(),
        outputChannel: output,
        // Inline completion runs on every keystroke: log its failures, don't pop them up.
        // Load failures still reach the user (the server sends window/showMessage).
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        middleware: {
            // Model loading reports `$/progress`; show it in our status item, not a second one.
            handleWorkDoneProgress: (_token, params) => status.progress(params),
            workspace: {
                // Pull-model configuration gets the same filtered section as the push model.
                configuration: async (params, token, next) => {
                    const answers = await next(params, token);
                    return Array.isArray(answers)
                        ? params.items.map((item, i) => (item.section === 'infill' ? serverSettings() : answers[i]))
                        : answers;
                },
            },
        },
    };
    client = new LanguageClient('infill', 'Infill', serverExecutable(), clientOptions);
    client.onNotification('infill/status', (params: InfillStatus) => status.update(params));
    client.onDidChangeState(({ newState }) => {
        if (newState === State.Starting) status.update({ state: 'loading', message: 'Starting the server' });
        if (newState === State.Stopped) status.update({ state: 'error', message: 'The server stopped' });
    });
    try {
        await client.start();
    } catch (error) {
        status.update({ state: 'error', message: `Could not start the server: ${error}` });
        const { command, args } = serverExecutable();
        output.error(`Could not start ${JSON.stringify([command, ...(args ?? [])])}: ${error}`);
    }
}

async function restart(): Promise<void> {
    await deactivate();
    await start();
}

/** `infill.server.command`, else `<infill.pythonPath> -m lsp_server`, else `infill-lsp`. */
function serverExecutable(): Executable {
    const config = workspace.getConfiguration('infill');
    const env = { ...process.env, ...config.get<Record<string, string>>('server.env', {}) };
    const command = config.get<string[]>('server.command', []).map(expand);
    if (command.length > 0) {
        return { command: command[0], args: command.slice(1), options: { env } };
    }
    const python = expand(config.get<string>('pythonPath', ''));
    if (python) {
        return { command: python, args: ['-m', 'lsp_server'], options: { env } };
    }
    return { command: 'infill-lsp', args: [], options: { env } };
}

/** The server's part of the `infill` section; empty values mean "server default". */
function serverSettings(): Record<string, unknown> {
    const config: WorkspaceConfiguration = workspace.getConfiguration('infill');
    const settings: Record<string, unknown> = {};
    for (const key of SERVER_KEYS) {
        const value = config.get(key);
        if (value !== undefined && value !== null && value !== '') {
            settings[key] = key === 'modelPath' ? expand(value as string) : value;
        }
    }
    return settings;
}

function expand(value: string): string {
    const folder = workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const home = process.env.HOME ?? '';
    return value.replace(/\$\{workspaceFolder\}/g, folder).replace(/^~(?=$|\/)/, home);
}

function inlineEnabled(): boolean {
    return workspace.getConfiguration('infill').get<boolean>('features.inlineCompletion', true);
}

/** Turn ghost text off or on for the user (the server reads the setting). */
async function toggleInlineCompletion(): Promise<void> {
    const enabled = !inlineEnabled();
    await workspace.getConfiguration('infill').update('features.inlineCompletion', enabled, ConfigurationTarget.Global);
    void window.setStatusBarMessage(`Infill: inline suggestions ${enabled ? 'on' : 'off'}`, 3000);
}

/** Run a server command (`infill.fixFunction`, ...) at the active editor's cursor. */
async function runAtCursor(command: string): Promise<void> {
    const editor = window.activeTextEditor;
    if (!editor) {
        return;
    }
    if (!client?.isRunning()) {
        void window.showErrorMessage('Infill: the language server is not running.', 'Show output')
            .then((choice) => choice && output.show(true));
        return;
    }
    const position = client.code2ProtocolConverter.asPosition(editor.selection.active);
    const uri = client.code2ProtocolConverter.asUri(editor.document.uri);
    try {
        // The server answers with the WorkspaceEdit and applies it itself (workspace/applyEdit).
        const edit = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [{ uri, position }] });
        if (!edit) {
            void window.setStatusBarMessage('Infill: nothing to change here', 3000);
        }
    } catch (error) {
        void window.showErrorMessage(`Infill: ${error instanceof Error ? error.message : error}`);
    }
}

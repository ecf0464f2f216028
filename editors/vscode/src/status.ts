// The status bar item: the server's `infill/status` state, plus the percentage of `$/progress`.
import { Disposable, StatusBarAlignment, StatusBarItem, ThemeColor, window } from 'vscode';
import type { WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageclient/node';

export type InfillState = 'loading' | 'ready' | 'busy' | 'error';
export interface InfillStatus {
    state: InfillState;
    message?: string;
}

const ICONS: Record<InfillState, string> = {
    loading: '$(loading~spin)',
    ready: '$(check)',
    busy: '$(sync~spin)',
    error: '$(error)',
};

export class StatusItem implements Disposable {
    private readonly item: StatusBarItem;
    private current: InfillStatus = { state: 'loading', message: 'Starting' };
    private percentage: number | undefined;
    private inlineEnabled = true;

    constructor(command: string) {
        this.item = window.createStatusBarItem('infill.status', StatusBarAlignment.Right, 100);
        this.item.name = 'Infill';
        this.item.command = command;
        this.render();
        this.item.show();
    }

    /** Show a state from the server (`infill/status`) or from the client's lifecycle. */
    update(status: InfillStatus): void {
        this.current = status;
        if (status.state !== 'loading') {
            this.percentage = undefined;
        }
        this.render();
    }

    /** Show whether inline suggestions are on (`infill.features.inlineCompletion`). */
    setInlineEnabled(enabled: boolean): void {
        this.inlineEnabled = enabled;
        this.render();
    }

    /** Fold a `$/progress` value into the loading state. */
    progress(value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd): void {
        if (value.kind === 'end') {
            this.percentage = undefined;
        } else {
            this.percentage = value.percentage ?? this.percentage;
            const title = value.kind === 'begin' ? value.title : undefined;
            const message = [title, value.message].filter(Boolean).join(': ') || this.current.message;
            if (this.current.state === 'loading' || value.kind === 'begin') {
                this.current = { state: 'loading', message };
            }
        }
        this.render();
    }

    dispose(): void {
        this.item.dispose();
    }

    private render(): void {
        const { state, message } = this.current;
        const percent = state === 'loading' && this.percentage !== undefined ? ` ${Math.round(this.percentage)}%` : '';
        const off = this.inlineEnabled ? '' : ' $(circle-slash)';
        this.item.text = `${ICONS[state]} Infill${percent}${off}`;
        const inline = this.inlineEnabled ? '' : '; inline suggestions off';
        this.item.tooltip = `Infill: ${state}${message ? ` - ${message}` : ''}${inline} (click for the server log)`;
        this.item.backgroundColor = state === 'error' ? new ThemeColor('statusBarItem.errorBackground') : undefined;
    }
}

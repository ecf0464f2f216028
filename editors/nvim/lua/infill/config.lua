--- Typed defaults and the merge that `setup()` performs.
local M = {}

---@class infill.InlineOptions
---@field enabled boolean draw the server's inline completion as ghost text
---@field debounce_ms integer wait this long after the last keystroke before asking
---@field hl_group string highlight group of the ghost text

---@class infill.Keymaps
---@field accept string|false insert-mode key that accepts the ghost text (falls back to itself)
---@field accept_word string|false insert-mode key that accepts its next word (falls back too)
---@field accept_line string|false insert-mode key that accepts the rest of its line (falls back too)
---@field dismiss string|false insert-mode key that hides the ghost text
---@field suggest string|false insert-mode key that asks for a suggestion now
---@field next string|false insert-mode key that shows the next suggestion
---@field prev string|false insert-mode key that shows the previous suggestion

---@class infill.Options
---@field cmd string[] command that starts the server (stdio)
---@field filetypes string[] buffers the server attaches to
---@field root_markers string[] files that mark a workspace root
---@field init_options table sent as `initializationOptions` (camelCase: modelPath, device, ...)
---@field settings table answered to `workspace/configuration`, e.g. `{ infill = { threshold = 0.7 } }`
---@field inline infill.InlineOptions
---@field keymaps infill.Keymaps

---@type infill.Options
M.defaults = {
  cmd = { 'infill-lsp' },
  filetypes = {
    'python',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
    'go',
    'rust',
  },
  root_markers = { '.git', 'pyproject.toml', 'setup.py', 'package.json', 'go.mod', 'Cargo.toml' },
  init_options = {},
  settings = {},
  inline = { enabled = true, debounce_ms = 50, hl_group = 'InfillGhostText' },
  keymaps = {
    accept = '<Tab>',
    accept_word = '<C-Right>',
    accept_line = false,
    dismiss = '<C-]>',
    suggest = '<M-\\>',
    next = '<M-]>',
    prev = '<M-[>',
  },
}

---@type infill.Options
M.options = vim.deepcopy(M.defaults)

---@param opts table
local function validate(opts)
  vim.validate('cmd', opts.cmd, 'table', true)
  vim.validate('filetypes', opts.filetypes, 'table', true)
  vim.validate('root_markers', opts.root_markers, 'table', true)
  vim.validate('init_options', opts.init_options, 'table', true)
  vim.validate('settings', opts.settings, 'table', true)
  vim.validate('inline', opts.inline, 'table', true)
  vim.validate('keymaps', opts.keymaps, 'table', true)
  local inline = opts.inline or {}
  vim.validate('inline.enabled', inline.enabled, 'boolean', true)
  vim.validate('inline.debounce_ms', inline.debounce_ms, 'number', true)
  vim.validate('inline.hl_group', inline.hl_group, 'string', true)
end

--- Merge `opts` over the defaults (never over a previous call), so `setup()` is idempotent.
---@param opts? table
---@return infill.Options
function M.merge(opts)
  opts = opts or {}
  validate(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  return M.options
end

return M

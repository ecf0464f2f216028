-- `nvim --headless --clean -l test_setup.lua PLUGIN_DIR`: setup() merges, validates and is
-- idempotent. Exits non-zero on the first failed check (no server needed).
vim.opt.runtimepath:prepend(assert(_G.arg[1], 'usage: test_setup.lua PLUGIN_DIR'))
local infill = require('infill')
local config = require('infill.config')

local function check(cond, what)
  if not cond then
    io.stderr:write('FAIL: ' .. what .. '\n')
    os.exit(1)
  end
  io.stdout:write('ok: ' .. what .. '\n')
end

local function autocmd_count()
  return #vim.api.nvim_get_autocmds({ group = 'infill' })
end

infill.setup({
  cmd = { 'true', '--flag' },
  init_options = { device = 'cuda' },
  inline = { debounce_ms = 5 },
})
local resolved = vim.lsp.config.infill
check(vim.deep_equal(resolved.cmd, { 'true', '--flag' }), 'cmd reaches vim.lsp.config')
check(resolved.init_options.device == 'cuda', 'init_options reach vim.lsp.config')
check(vim.lsp.is_enabled('infill'), 'the server is enabled')
check(config.options.inline.debounce_ms == 5, 'nested options merge')
check(config.options.inline.enabled == true, 'unset nested options keep their defaults')
check(config.options.keymaps.accept == '<Tab>', 'accept key defaults to <Tab>')
check(resolved.handlers['infill/status'] ~= nil, 'infill/status handler registered')
check(vim.fn.exists(':InfillFixFunction') == 2, ':InfillFixFunction exists')
check(vim.fn.exists(':InfillDocstring') == 2, ':InfillDocstring exists')
local n = autocmd_count()
check(n > 0, 'autocmds created')

infill.setup({ cmd = { 'true' } })
resolved = vim.lsp.config.infill
check(vim.deep_equal(resolved.cmd, { 'true' }), 'second setup replaces cmd')
check(resolved.init_options.device == nil, 'second setup starts over from the defaults')
check(config.options.inline.debounce_ms == config.defaults.inline.debounce_ms, 'defaults restored')
check(autocmd_count() == n, 'second setup does not duplicate autocmds')

local ok, err = pcall(infill.setup, { inline = { debounce_ms = 'soon' } })
check(not ok and tostring(err):find('debounce_ms', 1, true) ~= nil, 'bad option types are reported')
check(infill.status() == '', 'status is empty without a client')
check(infill.accept() == false, 'accept() is false with nothing shown')
os.exit(0)

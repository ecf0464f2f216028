--- `:checkhealth infill`
local M = {}

function M.check()
  local health = vim.health
  local config = require('infill.config')
  health.start('infill')
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.11+ is required (vim.lsp.config / vim.lsp.enable)')
  end
  if vim.lsp.inline_completion then
    health.ok('ghost text: built-in vim.lsp.inline_completion')
  else
    health.ok('ghost text: drawn by infill (Neovim 0.11)')
  end
  local cmd = config.options.cmd
  if vim.fn.executable(cmd[1]) == 1 then
    health.ok(('server command: %s'):format(table.concat(cmd, ' ')))
  else
    health.error(
      ('%s is not executable'):format(cmd[1]),
      { 'pip install infill-lsp', 'or set cmd in require("infill").setup({ cmd = {...} })' }
    )
  end
  local clients = vim.lsp.get_clients({ name = 'infill' })
  if #clients == 0 then
    health.info('no infill client running (open a file of a configured filetype)')
  end
  for _, client in ipairs(clients) do
    local s = require('infill.status').reported(client.id) or {}
    local root = client.root_dir or '(single file)'
    local line = ('client %d in %s: %s %s'):format(client.id, root, s.state or '?', s.message or '')
    if s.state == 'error' then
      health.error(line, { 'check init_options.modelPath and device', ':LspLog' })
    else
      health.ok(line)
    end
  end
end

return M

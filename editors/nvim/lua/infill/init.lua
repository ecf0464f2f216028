--- infill.nvim: client for infill-lsp (inline completion, fix function, insert docstring).
local config = require('infill.config')
local status = require('infill.status')
local actions = require('infill.actions')
local inline = require('infill.inline')
local api = vim.api

local M = {}

--- Whether Neovim draws inline completion itself (0.12+).
local function builtin_inline()
  return vim.lsp.inline_completion ~= nil
end

--- Assigned, not merged: `setup()` owns this config, so calling it again leaves no stale keys.
--- (`lsp/infill.lua` on 'runtimepath' and `vim.lsp.config('*', ...)` still apply on top.)
---@param opts infill.Options
local function register_server(opts)
  vim.lsp.config[status.CLIENT_NAME] = {
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = opts.init_options,
    settings = opts.settings,
    capabilities = {
      textDocument = { inlineCompletion = { dynamicRegistration = false } },
    },
    handlers = { ['infill/status'] = status.on_status },
  }
  vim.lsp.enable(status.CLIENT_NAME)
end

--- Buffer-local insert-mode keys for a buffer the server attached to.
---@param buf integer
---@param keys infill.Keymaps
local function map_keys(buf, keys)
  local function map(lhs, rhs, desc, expr)
    if lhs then
      vim.keymap.set('i', lhs, rhs, { buffer = buf, desc = desc, expr = expr })
    end
  end
  local accept = keys.accept
  if builtin_inline() then
    map(accept, function()
      if not vim.lsp.inline_completion.get() then
        return accept
      end
    end, 'infill: accept suggestion', true)
    local ic = vim.lsp.inline_completion
    local select = ic.select or ic.jump -- named `jump` in early 0.12 builds
    map(keys.next, function()
      select({ count = 1 })
    end, 'infill: next suggestion')
    map(keys.prev, function()
      select({ count = -1 })
    end, 'infill: previous suggestion')
    return
  end
  -- An expr mapping only looks; the edit itself runs from <Cmd>, outside the textlock.
  map(accept, function()
    return inline.visible() and '<Cmd>lua require("infill").accept()<CR>' or accept
  end, 'infill: accept suggestion', true)
  map(keys.accept_word, function()
    return inline.visible() and '<Cmd>lua require("infill").accept_word()<CR>' or keys.accept_word
  end, 'infill: accept the next word of the suggestion', true)
  map(keys.accept_line, function()
    return inline.visible() and '<Cmd>lua require("infill").accept_line()<CR>' or keys.accept_line
  end, 'infill: accept the rest of the line of the suggestion', true)
  map(keys.dismiss, function()
    return inline.visible() and '<Cmd>lua require("infill").dismiss()<CR>' or keys.dismiss
  end, 'infill: dismiss suggestion', true)
  map(keys.suggest, function()
    inline.request('invoked')
  end, 'infill: suggest now')
  map(keys.next, function()
    inline.cycle(1)
  end, 'infill: next suggestion')
  map(keys.prev, function()
    inline.cycle(-1)
  end, 'infill: previous suggestion')
end

---@param group integer
---@param opts infill.Options
local function on_attach(group, opts)
  api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if not client or client.name ~= status.CLIENT_NAME then
        return
      end
      if builtin_inline() and opts.inline.enabled then
        vim.lsp.inline_completion.enable(true, { bufnr = ev.buf })
      end
      map_keys(ev.buf, opts.keymaps)
    end,
  })
  -- A buffer detaches on `:e!` too; only a client that stopped loses its status.
  api.nvim_create_autocmd('LspDetach', {
    group = group,
    callback = function(ev)
      local id = ev.data.client_id
      vim.schedule(function()
        local client = vim.lsp.get_client_by_id(id)
        if not client or client:is_stopped() then
          status.forget(id)
        end
      end)
    end,
  })
end

local function create_commands()
  local cmd = api.nvim_create_user_command
  cmd(
    'InfillFixFunction',
    actions.fix_function,
    { desc = 'infill: fix the function at the cursor' }
  )
  cmd('InfillDocstring', actions.docstring, { desc = 'infill: insert a docstring at the cursor' })
  cmd('InfillToggle', function()
    vim.notify('infill: inline suggestions ' .. (M.toggle() and 'on' or 'off'))
  end, { desc = 'infill: turn inline suggestions off or on' })
  cmd('InfillRestart', M.restart, { desc = 'infill: restart the server' })
  cmd('InfillStatus', function()
    local text = status.text()
    vim.notify(text ~= '' and text or 'infill: no client', vim.log.levels.INFO)
  end, { desc = 'infill: show the server status' })
end

--- Configure and enable the server. Safe to call again: options are merged over the defaults.
---@param opts? table see |infill-config|
function M.setup(opts)
  local options = config.merge(opts)
  local group = api.nvim_create_augroup('infill', { clear = true })
  register_server(options)
  api.nvim_create_autocmd('LspProgress', { group = group, callback = status.on_progress })
  on_attach(group, options)
  if not builtin_inline() then
    inline.attach(group)
  end
  create_commands()
end

--- Accept the shown suggestion; false when none is shown (0.11 ghost text).
---@return boolean
function M.accept()
  if builtin_inline() then
    return vim.lsp.inline_completion.get() or false
  end
  return inline.accept()
end

--- Turn inline suggestions off or on in every buffer (`inline.enabled`); returns the new state.
---@return boolean
function M.toggle()
  local on = not config.options.inline.enabled
  config.options.inline.enabled = on
  if builtin_inline() then
    vim.lsp.inline_completion.enable(on)
  elseif not on then
    inline.stop()
  end
  return on
end

--- Accept the next word of the shown suggestion (0.11 ghost text); false when none is shown.
---@return boolean
function M.accept_word()
  return inline.accept_part('word')
end

--- Accept the rest of the current line of the shown suggestion (0.11 ghost text).
---@return boolean
function M.accept_line()
  return inline.accept_part('line')
end

--- Stop the server and start a new one for the buffers it serves (`:InfillRestart`): after a
--- crash, or to read a changed `cmd`. A server that has not exited after 3 s is killed.
function M.restart()
  local old = vim.lsp.get_clients({ name = status.CLIENT_NAME })
  inline.stop()
  vim.lsp.enable(status.CLIENT_NAME, false) -- stops them
  local deadline = vim.uv.now() + 3000
  local timer = assert(vim.uv.new_timer())
  timer:start(
    20,
    20,
    vim.schedule_wrap(function()
      local running = vim.tbl_filter(function(c)
        return not c:is_stopped()
      end, old)
      if #running > 0 and vim.uv.now() < deadline then
        return
      end
      timer:stop()
      timer:close()
      for _, client in ipairs(running) do
        client:stop(true)
      end
      vim.lsp.enable(status.CLIENT_NAME) -- a new client for every buffer it applies to
    end)
  )
end

--- Hide the shown suggestion.
function M.dismiss()
  inline.stop()
end

--- Statusline component: "infill: ready", "infill: loading 40%", or "".
---@return string
function M.status()
  return status.text()
end

M.fix_function = actions.fix_function
M.docstring = actions.docstring

return M

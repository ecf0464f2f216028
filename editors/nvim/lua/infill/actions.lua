--- `:InfillFixFunction` and `:InfillDocstring`: `workspace/executeCommand` at the cursor.
---
--- The server computes the edit and sends `workspace/applyEdit`, which Neovim applies; the
--- command's result is that `WorkspaceEdit` (or null when there was nothing to do).
local api = vim.api

local M = {}

M.commands = {
  fix_function = { name = 'infill.fixFunction', title = 'Fix this function' },
  docstring = { name = 'infill.insertDocstring', title = 'Insert docstring' },
}

---@param action {name: string, title: string}
---@param err? lsp.ResponseError
---@param result any
---@param buf integer
local function done(action, err, result, buf)
  if err then
    vim.notify(('infill: %s failed: %s'):format(action.title, err.message), vim.log.levels.ERROR)
  elseif result == nil or result == vim.NIL then
    vim.notify(('infill: %s: nothing to change here'):format(action.title), vim.log.levels.INFO)
  end
  api.nvim_exec_autocmds('User', {
    pattern = 'InfillCommandDone',
    modeline = false,
    data = { command = action.name, buf = buf, err = err, result = result },
  })
end

--- Run one of `M.commands` for the cursor position in the current buffer.
---@param action {name: string, title: string}
function M.run(action)
  local buf = api.nvim_get_current_buf()
  local client = vim.lsp.get_clients({ bufnr = buf, name = 'infill' })[1]
  if not client then
    vim.notify('infill: no infill-lsp client attached to this buffer', vim.log.levels.WARN)
    return
  end
  local pos = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local params = {
    command = action.name,
    arguments = { { uri = pos.textDocument.uri, position = pos.position } },
  }
  client:request('workspace/executeCommand', params, function(err, result)
    done(action, err, result, buf)
  end, buf)
end

function M.fix_function()
  M.run(M.commands.fix_function)
end

function M.docstring()
  M.run(M.commands.docstring)
end

return M

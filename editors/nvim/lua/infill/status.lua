--- Statusline component fed by the server's `infill/status` notification and `$/progress`.
local config = require('infill.config')

local M = {}

M.CLIENT_NAME = 'infill'

---@class infill.ClientStatus
---@field state? 'starting'|'loading'|'ready'|'busy'|'error'
---@field message string
---@field percentage? integer

---@type table<integer, infill.ClientStatus>
local by_client = {}

---@param client_id integer
---@return infill.ClientStatus
local function entry(client_id)
  by_client[client_id] = by_client[client_id] or { message = '' }
  return by_client[client_id]
end

local function changed()
  vim.cmd.redrawstatus({ bang = true })
  vim.api.nvim_exec_autocmds('User', { pattern = 'InfillStatus', modeline = false })
end

--- Handler for the server's `infill/status` notification `{state, message}`.
---@type lsp.Handler
function M.on_status(_, params, ctx)
  if type(params) ~= 'table' then
    return
  end
  local s = entry(ctx.client_id)
  s.state = params.state
  s.message = params.message or ''
  if s.state ~= 'loading' then
    s.percentage = nil
  end
  vim.schedule(changed)
end

--- `LspProgress` autocmd callback: keep the model-loading percentage.
---@param ev {data: {client_id: integer, params: lsp.ProgressParams}}
function M.on_progress(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  if not client or client.name ~= M.CLIENT_NAME then
    return
  end
  local value = ev.data.params.value or {}
  local s = entry(client.id)
  if value.kind == 'end' then
    s.percentage = nil
  else
    s.state = s.state or 'loading'
    s.percentage = value.percentage or s.percentage
    s.message = value.message or value.title or s.message
  end
  changed()
end

--- Forget a client that stopped.
---@param client_id integer
function M.forget(client_id)
  by_client[client_id] = nil
  changed()
end

--- What the server last reported for `client_id` (nil before its first report).
---@param client_id integer
---@return infill.ClientStatus?
function M.reported(client_id)
  return by_client[client_id]
end

--- The status of the infill client attached to `bufnr` (or of any infill client).
---@param bufnr? integer
---@return infill.ClientStatus?
function M.current(bufnr)
  local clients = vim.lsp.get_clients({ bufnr = bufnr or 0, name = M.CLIENT_NAME })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = M.CLIENT_NAME })
  end
  local client = clients[1]
  if not client then
    return nil
  end
  return by_client[client.id]
    or { state = client.initialized and 'ready' or 'starting', message = '' }
end

--- Short text for a statusline: "infill: ready", "infill: loading 40%", "" without a client.
---@param bufnr? integer
---@return string
function M.text(bufnr)
  local s = M.current(bufnr)
  if not s or not s.state then
    return ''
  end
  local text = 'infill: ' .. s.state
  if s.state == 'loading' and s.percentage then
    text = ('%s %d%%'):format(text, s.percentage)
  elseif s.state == 'error' and s.message ~= '' then
    text = text .. ' (' .. s.message .. ')'
  end
  if not config.options.inline.enabled then
    text = text .. ' (inline off)'
  end
  return text
end

return M

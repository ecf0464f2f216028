--- `textDocument/inlineCompletion` on Neovim 0.11 (0.12+ has it built in).
---
--- One answer is live at a time, in the current buffer: asked for after a debounce in insert
--- mode, the request in flight cancelled when the user types, drawn by `infill.ghost`, kept while
--- the user types what it suggests, accepted with `accept()`, dropped on InsertLeave. None is
--- shown while the completion menu is open (it would be drawn under the menu, and `<Tab>` may
--- belong to the menu); it is asked for again when the menu closes.
local config = require('infill.config')
local ghost = require('infill.ghost')
local api = vim.api

local M = {}

local METHOD = 'textDocument/inlineCompletion'
local TRIGGER = { invoked = 1, automatic = 2 }
local REQUEST_CANCELLED = -32800

---@class infill.Suggestion
---@field text string the item's insertText (a snippet's text is inserted as is)
---@field anchors infill.Anchors the item's range, tracked as the buffer changes
---@field command? lsp.Command
---@field raw lsp.InlineCompletionItem the item as the server sent it
---@field start infill.Pos where the range started when the answer came
---@field request_id integer the request that answered it

local state = {
  timer = nil, ---@type uv.uv_timer_t?
  request = nil, ---@type {client: vim.lsp.Client, id: integer}?
  buf = nil, ---@type integer? buffer of the suggestions
  client_id = nil, ---@type integer?
  items = {}, ---@type infill.Suggestion[]
  index = 1,
}

--- The infill client attached to `buf` that serves inline completion.
---@param buf integer
---@return vim.lsp.Client?
function M.client(buf)
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = buf, name = 'infill' })) do
    if client.server_capabilities.inlineCompletionProvider then
      return client
    end
  end
end

--- Hide the ghost text and forget the suggestions.
function M.clear()
  ghost.undraw()
  if state.buf then
    ghost.forget(state.buf)
  end
  state.items, state.index, state.buf, state.client_id = {}, 1, nil, nil
end

--- Cancel the request in flight, if any.
function M.cancel()
  local req = state.request
  state.request = nil
  if req and not req.client:is_stopped() then
    req.client:cancel_request(req.id)
  end
end

--- Whether a suggestion is drawn at the cursor.
---@return boolean
function M.visible()
  return state.buf ~= nil and ghost.shown(state.buf)
end

--- Which of the last answer's suggestions is drawn: index and count (0, 0 when none is).
---@return integer, integer
function M.position()
  if not M.visible() then
    return 0, 0
  end
  return state.index, #state.items
end

--- The suggestion that is drawn, if any.
---@return infill.Suggestion?
function M.current()
  return M.visible() and state.items[state.index] or nil
end

--- Draw the current suggestion, else the next one that fits; false when none does.
---@return boolean
local function show()
  local n = #state.items
  for i = 0, n - 1 do
    local index = (state.index - 1 + i) % n + 1
    local item = state.items[index]
    if ghost.draw(state.buf, item.text, item.anchors) then
      state.index = index
      return true
    end
  end
  return false
end

---@param buf integer
---@param raw lsp.InlineCompletionItem
---@param encoding string
---@param request_id integer
---@return infill.Suggestion?
local function suggestion(buf, raw, encoding, request_id)
  local text = type(raw.insertText) == 'table' and raw.insertText.value or raw.insertText
  if type(text) ~= 'string' then
    return nil
  end
  local cursor = ghost.cursor()
  local range = { cursor[1], cursor[2], cursor[1], cursor[2] }
  if type(raw.range) == 'table' then
    local s, e = raw.range.start, raw.range['end']
    range = { s.line, ghost.byte_col(buf, s, encoding), e.line, ghost.byte_col(buf, e, encoding) }
  end
  return {
    text = text,
    anchors = ghost.anchor(buf, range),
    command = raw.command,
    raw = raw,
    start = { range[1], range[2] },
    request_id = request_id,
  }
end

---@param buf integer
---@param client vim.lsp.Client
---@param id_ref {id?: integer}
---@return lsp.Handler
local function on_result(buf, client, id_ref)
  local tick, cursor = api.nvim_buf_get_changedtick(buf), ghost.cursor()
  return function(err, result)
    if not state.request or state.request.id ~= id_ref.id then
      return -- superseded or cancelled
    end
    state.request = nil
    if err then
      if err.code ~= REQUEST_CANCELLED then
        vim.lsp.log.warn('infill: inlineCompletion failed', err)
      end
      return
    end
    local now = ghost.cursor()
    if
      buf ~= api.nvim_get_current_buf()
      or api.nvim_buf_get_changedtick(buf) ~= tick
      or not vim.deep_equal(now, cursor)
      or not vim.startswith(api.nvim_get_mode().mode, 'i')
      or vim.fn.pumvisible() == 1
      or type(result) ~= 'table'
    then
      return
    end
    M.clear()
    state.buf, state.client_id = buf, client.id
    for _, raw in ipairs(result.items or result) do
      state.items[#state.items + 1] = suggestion(buf, raw, client.offset_encoding, id_ref.id)
    end
    if not show() then
      M.clear()
    end
  end
end

--- Ask the server for a suggestion at the cursor now.
---@param trigger? 'invoked'|'automatic'
function M.request(trigger)
  local buf = api.nvim_get_current_buf()
  local client = M.client(buf)
  if not client or not config.options.inline.enabled then
    return
  end
  M.cancel()
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = TRIGGER[trigger or 'automatic'] }
  local id_ref = {}
  local ok, id = client:request(METHOD, params, on_result(buf, client, id_ref), buf)
  if ok and id then
    id_ref.id = id
    state.request = { client = client, id = id }
  end
end

--- Clear, cancel, and ask again once the user pauses typing.
function M.schedule()
  M.clear()
  M.cancel()
  if not config.options.inline.enabled or not M.client(api.nvim_get_current_buf()) then
    return
  end
  state.timer = state.timer or assert(vim.uv.new_timer())
  state.timer:stop()
  state.timer:start(
    config.options.inline.debounce_ms,
    0,
    vim.schedule_wrap(function()
      if vim.startswith(api.nvim_get_mode().mode, 'i') and vim.fn.pumvisible() == 0 then
        M.request('automatic')
      end
    end)
  )
end

--- After an edit: keep the suggestion when the user typed what it suggests, else ask again.
local function on_text_changed()
  local item = state.items[state.index]
  local typed_through = item
    and state.buf == api.nvim_get_current_buf()
    and vim.deep_equal((ghost.range(state.buf, item.anchors)), item.start) -- nothing deleted before
    and show()
  if not typed_through then
    M.schedule()
  end
end

--- After the cursor moved: nothing to do when the ghost text is still at the cursor.
local function on_cursor_moved()
  if not M.visible() then
    M.schedule()
  end
end

--- Stop everything: leaving insert mode or the buffer.
function M.stop()
  if state.timer then
    state.timer:stop()
  end
  M.cancel()
  M.clear()
end

--- Insert the drawn suggestion; returns false when none is shown.
---@return boolean
function M.accept()
  local item = M.current()
  if not item then
    return false
  end
  local buf, client_id = state.buf, state.client_id
  ghost.insert(buf, item.text, item.anchors)
  M.clear()
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  if item.command and client then
    client:exec_cmd(item.command, { bufnr = buf })
  end
  return true
end

--- Type the next word (`part` = 'word': spaces, then a run of word or of other characters)
--- or the rest of the line ('line') of the drawn suggestion. The rest stays drawn, since what
--- was typed is what it suggests. False when none is shown.
---@param part 'word'|'line'
---@return boolean
function M.accept_part(part)
  local item = M.current()
  local rest = item and ghost.untyped(state.buf, item.text, item.anchors)
  if not rest or rest == '' then
    return false
  end
  local head = part == 'line' and rest:match('^\n?[^\n]*')
    or rest:match('^%s*[%w_]+')
    or rest:match('^%s*[^%w_%s]+')
    or rest
  ghost.type(state.buf, head)
  return true
end

--- Show the next (`step` = 1) or previous (-1) suggestion of the last answer.
---@param step integer
function M.cycle(step)
  local n = #state.items
  if n < 2 or not M.visible() then
    return
  end
  state.index = (state.index - 1 + step) % n + 1
  show()
end

--- Autocmds that drive the ghost text (in `group`).
---@param group integer
function M.attach(group)
  local function au(events, fn)
    api.nvim_create_autocmd(events, { group = group, callback = fn })
  end
  au('InsertEnter', M.schedule)
  au('TextChangedI', on_text_changed)
  au('CursorMovedI', on_cursor_moved)
  au({ 'InsertLeave', 'BufLeave', 'CompleteChanged' }, M.stop)
  au('CompleteDone', M.schedule)
  au('ColorScheme', function()
    api.nvim_set_hl(0, 'InfillGhostText', { link = 'Comment', default = true })
  end)
end

return M

-- Functions the pytest side calls with `nvim --server SOCK --remote-expr`. Each waits with
-- vim.wait on a predicate (`idle` aside) and answers JSON: {ok, value} or {ok=false, error}.
local api = vim.api
local ghost = require('infill.ghost')
local inline = require('infill.inline')

local T = {}
_G.InfillTest = T

local done_events = {}
api.nvim_create_autocmd('User', {
  pattern = 'InfillCommandDone',
  callback = function(ev)
    done_events[#done_events + 1] = ev.data
  end,
})

local function infill_client()
  return vim.lsp.get_clients({ bufnr = 0, name = 'infill' })[1]
end

local function snapshot()
  local cursor = api.nvim_win_get_cursor(0)
  local item = inline.current()
  local index, count = inline.position()
  return {
    position = { index, count },
    ghost = item and { text = item.text, raw = item.raw, request_id = item.request_id } or nil,
    extmarks = vim.tbl_map(function(m)
      local d = m[4]
      return {
        row = m[2],
        col = m[3],
        virt_text = d.virt_text,
        virt_text_pos = d.virt_text_pos,
        virt_lines = d.virt_lines,
      }
    end, api.nvim_buf_get_extmarks(0, ghost.ns, 0, -1, { details = true })),
    lines = api.nvim_buf_get_lines(0, 0, -1, false),
    cursor = { cursor[1] - 1, cursor[2] },
    mode = api.nvim_get_mode().mode,
    pum = vim.fn.pumvisible() == 1,
    tick = api.nvim_buf_get_changedtick(0),
    status = require('infill').status(),
    client_id = (infill_client() or {}).id,
  }
end

---@param ms integer
---@param what string
---@param pred fun(): boolean
local function wait(ms, what, pred)
  if not vim.wait(ms, pred, 20) then
    error(
      ('timed out after %d ms waiting for %s (status %q)'):format(
        ms,
        what,
        require('infill').status()
      )
    )
  end
end

function T.snapshot()
  return snapshot()
end

--- The infill client is attached to the current buffer and the server says it is ready.
function T.wait_ready(ms)
  wait(ms, 'the infill client', function()
    local c = infill_client()
    return c ~= nil and c.initialized == true
  end)
  wait(ms, 'infill/status ready', function()
    local s = require('infill.status').reported(infill_client().id)
    return s ~= nil and s.state == 'ready'
  end)
  local c = assert(infill_client())
  local s = snapshot()
  s.inline_provider = c.server_capabilities.inlineCompletionProvider ~= nil
  s.commands = vim.tbl_get(c.server_capabilities, 'executeCommandProvider', 'commands') or {}
  return s
end

--- A client other than `old_id` serves the buffer, and its server says it is ready.
function T.wait_restarted(old_id, ms)
  wait(ms, 'a new infill client, ready', function()
    local c = infill_client()
    local s = c and c.id ~= old_id and require('infill.status').reported(c.id)
    return s and s.state == 'ready' or false
  end)
  return snapshot()
end

--- Ghost text is drawn: the extmark in infill's namespace and the suggestion behind it.
function T.wait_ghost(ms)
  wait(ms, 'ghost text', function()
    return inline.current() ~= nil and #api.nvim_buf_get_extmarks(0, ghost.ns, 0, -1, {}) > 0
  end)
  return snapshot()
end

--- The drawn suggestion is number `index` of an answer with at least two.
function T.wait_position(index, ms)
  wait(ms, 'suggestion #' .. index .. ' of several', function()
    local i, n = inline.position()
    return i == index and n >= 2
  end)
  return snapshot()
end

--- The buffer changed since `tick`.
function T.wait_changed(tick, ms)
  wait(ms, 'a buffer change', function()
    return api.nvim_buf_get_changedtick(0) > tick
  end)
  return snapshot()
end

--- Ghost text is gone (e.g. after InsertLeave).
function T.wait_no_ghost(ms)
  wait(ms, 'ghost text to clear', function()
    return #api.nvim_buf_get_extmarks(0, ghost.ns, 0, -1, {}) == 0
  end)
  return snapshot()
end

--- Let `ms` pass (events and server answers are processed meanwhile): the one wait that shows
--- that nothing appears.
function T.idle(ms)
  vim.wait(ms, function()
    return false
  end, 20)
  return snapshot()
end

--- The n-th `User InfillCommandDone` event arrived; its data plus the buffer.
function T.wait_command_done(n, ms)
  wait(ms, 'InfillCommandDone #' .. n, function()
    return #done_events >= n
  end)
  local s = snapshot()
  s.done = done_events[n]
  return s
end

function T.redraw()
  vim.cmd.redraw({ bang = true })
  return snapshot()
end

--- Entry point: `v:lua.InfillTest.call("wait_ghost", 30000)`.
function T.call(name, ...)
  local ok, value = pcall(T[name], ...)
  if ok then
    return vim.json.encode({ ok = true, value = value })
  end
  return vim.json.encode({ ok = false, error = tostring(value) })
end

--- Drawing one suggestion as ghost text, and keeping its range right while the user types.
---
--- The range lives in two extmarks (start stays left, end moves right with typed text), so text
--- typed at the cursor lands inside the range and the ghost can shrink instead of flickering.
--- The drawing is one extmark: overlay virt_text from the cursor (the cursor stays put, and the
--- overlay is padded to hide the old rest of line) plus virt_lines for further lines.
local config = require('infill.config')
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace('infill.ghost')
local anchors_ns = api.nvim_create_namespace('infill.ghost.anchors')

---@alias infill.Pos [integer, integer] 0-based row, byte column
---@alias infill.Anchors [integer, integer] extmark ids of a range's start and end

local drawn = {} ---@type {buf?: integer, id?: integer}

---@param a infill.Pos
---@param b infill.Pos
local function before_or_at(a, b)
  return a[1] < b[1] or (a[1] == b[1] and a[2] <= b[2])
end

---@param buf integer
---@param from infill.Pos
---@param to infill.Pos
---@return string
local function text_between(buf, from, to)
  if not before_or_at(from, to) then
    return ''
  end
  return table.concat(api.nvim_buf_get_text(buf, from[1], from[2], to[1], to[2], {}), '\n')
end

---@param buf integer
---@param s string
local function untab(buf, s)
  return (s:gsub('\t', string.rep(' ', vim.bo[buf].tabstop)))
end

---@param chunks [string, string][]
local function width(chunks)
  local n = 0
  for _, c in ipairs(chunks) do
    n = n + vim.fn.strdisplaywidth(c[1])
  end
  return n
end

---@param chunks [string, string][]
local function nonempty(chunks)
  return vim.tbl_filter(function(c)
    return c[1] ~= ''
  end, chunks)
end

--- The cursor of the current window as an `infill.Pos`.
---@return infill.Pos
function M.cursor()
  local pos = api.nvim_win_get_cursor(0)
  return { pos[1] - 1, pos[2] }
end

--- LSP position -> 0-based byte column (positions are UTF-16 unless negotiated otherwise).
---@param buf integer
---@param pos lsp.Position
---@param encoding string
---@return integer
function M.byte_col(buf, pos, encoding)
  local line = api.nvim_buf_get_lines(buf, pos.line, pos.line + 1, false)[1] or ''
  local ok, col = pcall(vim.str_byteindex, line, encoding, pos.character, false)
  return ok and col or #line
end

--- Pin a range (rows, byte columns) to the text with two extmarks.
---@param buf integer
---@param range [integer, integer, integer, integer]
---@return infill.Anchors
function M.anchor(buf, range)
  local start = api.nvim_buf_set_extmark(buf, anchors_ns, range[1], range[2], {
    right_gravity = false,
  })
  local stop = api.nvim_buf_set_extmark(buf, anchors_ns, range[3], range[4], {
    right_gravity = true,
  })
  return { start, stop }
end

--- Where anchored range is now: start and end positions.
---@param buf integer
---@param anchors infill.Anchors
---@return infill.Pos, infill.Pos
function M.range(buf, anchors)
  local s = api.nvim_buf_get_extmark_by_id(buf, anchors_ns, anchors[1], {})
  local e = api.nvim_buf_get_extmark_by_id(buf, anchors_ns, anchors[2], {})
  return { s[1], s[2] }, { e[1], e[2] }
end

--- Drop all anchors of `buf`.
---@param buf integer
function M.forget(buf)
  if api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, anchors_ns, 0, -1)
  end
end

--- How the buffer would read from the cursor on if `text` replaced [start, stop): the part not
--- typed yet in the ghost highlight, then the text the edit pushes along. Nil when the text
--- disagrees with what is typed, or accepting would change nothing.
---@param buf integer
---@param text string
---@param start infill.Pos
---@param stop infill.Pos
---@param cursor infill.Pos
---@return {virt_text: [string, string][], virt_lines: [string, string][][]}?
function M.preview(buf, text, start, stop, cursor)
  if not before_or_at(start, cursor) or not before_or_at(cursor, stop) then
    return nil
  end
  local typed = text_between(buf, start, cursor)
  if text:sub(1, #typed) ~= typed then
    return nil
  end
  local new = text:sub(#typed + 1)
  local line = api.nvim_buf_get_lines(buf, cursor[1], cursor[1] + 1, false)[1] or ''
  local stop_line = api.nvim_buf_get_lines(buf, stop[1], stop[1] + 1, false)[1] or ''
  local covered, moved = line:sub(cursor[2] + 1), stop_line:sub(stop[2] + 1)
  if new == '' and covered == moved then
    return nil
  end
  local hl = config.options.inline.hl_group
  local rows = vim.tbl_map(function(l)
    return { { untab(buf, l), hl } }
  end, vim.split(new, '\n', { plain = true }))
  table.insert(rows[#rows], { untab(buf, moved), 'Normal' })
  local first = rows[1]
  local hidden = vim.fn.strdisplaywidth(untab(buf, covered))
  if width(first) < hidden then
    table.insert(first, { string.rep(' ', hidden - width(first)), 'Normal' })
  end
  return { virt_text = nonempty(first), virt_lines = vim.tbl_map(nonempty, { unpack(rows, 2) }) }
end

--- Remove the ghost text.
function M.undraw()
  if drawn.buf and drawn.id and api.nvim_buf_is_valid(drawn.buf) then
    pcall(api.nvim_buf_del_extmark, drawn.buf, M.ns, drawn.id)
  end
  drawn.buf, drawn.id = nil, nil
end

--- Draw `text` replacing the anchored range at the cursor; false when it cannot be shown.
---@param buf integer
---@param text string
---@param anchors infill.Anchors
---@return boolean
function M.draw(buf, text, anchors)
  M.undraw()
  local cursor = M.cursor()
  local start, stop = M.range(buf, anchors)
  local view = M.preview(buf, text, start, stop, cursor)
  if not view then
    return false
  end
  drawn.buf = buf
  drawn.id = api.nvim_buf_set_extmark(buf, M.ns, cursor[1], cursor[2], {
    virt_text = #view.virt_text > 0 and view.virt_text or nil,
    virt_text_pos = 'overlay',
    virt_lines = #view.virt_lines > 0 and view.virt_lines or nil,
    hl_mode = 'combine',
    priority = 200,
  })
  return true
end

--- Whether ghost text is drawn in `buf` at the cursor.
---@param buf integer
---@return boolean
function M.shown(buf)
  if drawn.buf ~= buf or not drawn.id then
    return false
  end
  local mark = api.nvim_buf_get_extmark_by_id(buf, M.ns, drawn.id, {})
  local cursor = M.cursor()
  return mark[1] == cursor[1] and mark[2] == cursor[2]
end

--- Replace [start, stop) with `text` and put the cursor after it.
---@param buf integer
---@param start infill.Pos
---@param stop infill.Pos
---@param text string
local function replace(buf, start, stop, text)
  local lines = vim.split(text, '\n', { plain = true })
  api.nvim_buf_set_text(buf, start[1], start[2], stop[1], stop[2], lines)
  local last = lines[#lines]
  api.nvim_win_set_cursor(0, { start[1] + #lines, (#lines == 1 and start[2] or 0) + #last })
end

--- Replace the anchored range with `text` and put the cursor after it.
---@param buf integer
---@param text string
---@param anchors infill.Anchors
function M.insert(buf, text, anchors)
  M.undraw()
  local start, stop = M.range(buf, anchors)
  replace(buf, start, stop, text)
end

--- What of `text` is not typed yet: it goes at the start of the anchored range, and the user
--- has typed from there to the cursor. Nil when what is typed disagrees with it.
---@param buf integer
---@param text string
---@param anchors infill.Anchors
---@return string?
function M.untyped(buf, text, anchors)
  local start = M.range(buf, anchors)
  local typed = text_between(buf, start, M.cursor())
  return text:sub(1, #typed) == typed and text:sub(#typed + 1) or nil
end

--- Insert `text` at the cursor, as if typed, and put the cursor after it.
---@param buf integer
---@param text string
function M.type(buf, text)
  local cursor = M.cursor()
  replace(buf, cursor, cursor, text)
end

api.nvim_set_hl(0, 'InfillGhostText', { link = 'Comment', default = true })

return M

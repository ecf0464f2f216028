-- Test init for tests/editors/test_neovim.py: the plugin from this repo, configured from
-- $INFILL_NVIM_TEST (JSON: {plugin_dir, setup}), plus the test driver.
local test = vim.json.decode((assert(os.getenv('INFILL_NVIM_TEST'), 'INFILL_NVIM_TEST is not set')))

vim.opt.runtimepath:prepend(test.plugin_dir)
vim.o.swapfile = false
vim.o.termguicolors = true
vim.o.background = 'dark'
vim.o.laststatus = 2
vim.o.statusline = " %f %m%=%{v:lua.require'infill'.status()} "
vim.o.number = true
vim.cmd('filetype plugin indent on')
vim.cmd('syntax on')

require('infill').setup(test.setup)

local here = debug.getinfo(1, 'S').source:sub(2):match('(.*)/')
dofile(here .. '/driver.lua')

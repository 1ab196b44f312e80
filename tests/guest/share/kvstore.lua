-- SPDX-License-Identifier: GPL-2.0
--
-- kvstore.lua - a key-value store in a garbage-collected runtime, run by
-- Debian's unmodified lua5.4 in the guest tests of real programs
-- (tests/guest/realprog_lua.sh). Every value is a Lua string in one table:
-- the heap is the interpreter's own (glibc malloc through lua_Alloc), and
-- replaced or deleted values are garbage its incremental collector frees.
--
--   lua5.4 kvstore.lua DIR
--
-- Reads commands from the FIFO DIR/in, one a line, and answers each with
-- one line on the FIFO DIR/out (tests/prog/kvtool is the client):
--   S KEY VALUE   set                  -> OK
--   G KEY         get                  -> V VALUE, or NIL
--   D KEY         delete               -> OK
--   N             the number of keys   -> N COUNT
-- Both FIFOs are opened read-write, so that neither open blocks and a
-- client closing its end is not an end of input. Runs until killed.

local dir = assert(arg[1], "usage: kvstore.lua DIR")
local input = assert(io.open(dir .. "/in", "r+"))
local output = assert(io.open(dir .. "/out", "r+"))
output:setvbuf("full", 65536)

local store, count = {}, 0

-- One answer line; flushed after each command.
local function reply(...)
	output:write(...)
	output:write("\n")
end

for line in input:lines() do
	local cmd = line:sub(1, 1)
	if cmd == "S" then
		local sp = line:find(" ", 3, true)
		local key = line:sub(3, sp - 1)
		if store[key] == nil then
			count = count + 1
		end
		store[key] = line:sub(sp + 1)
		reply("OK")
	elseif cmd == "G" then
		local v = store[line:sub(3)]
		if v then
			reply("V ", v)
		else
			reply("NIL")
		end
	elseif cmd == "D" then
		local key = line:sub(3)
		if store[key] ~= nil then
			count = count - 1
			store[key] = nil
		end
		reply("OK")
	elseif cmd == "N" then
		reply("N ", count)
	else
		reply("ERR unknown command")
	end
	output:flush()
end

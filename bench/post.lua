-- POST the name form to /, for bench/run.py:
--   wrk -H "Cookie: ..." -H "Content-Type: application/x-www-form-urlencoded" -s bench/post.lua URL -- TOKEN MODE NAME
-- MODE "fixed" posts NAME every time; "new" a fresh name per request, NAME-<thread>-<count> (NAME: new per wrk run);
-- "new-then-get" does that too, each POST followed by a GET / (a browser without JS following its 303).
-- Headers come from wrk's -H options.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local token, mode, name
local counter, toggle = 0, false

function init(args)
  token, mode, name = args[1], args[2], args[3]
end

function request()
  if mode == "new-then-get" then
    toggle = not toggle
    if not toggle then return wrk.format("GET", "/") end
  end
  local this = name
  if mode ~= "fixed" then
    counter = counter + 1
    this = name .. "-" .. tid .. "-" .. counter
  end
  return wrk.format("POST", "/", nil, "csrf_token=" .. token .. "&name=" .. this)
end

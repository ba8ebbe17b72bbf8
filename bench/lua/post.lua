-- wrk script for the `kyso serve` benchmark (bench/serve_bench.sh): POSTs DER requests read from
-- a pool file, cycling over all of them, one after the other on each connection.
--
--   wrk -t1 -c64 -d10s --latency -s bench/lua/post.lua http://127.0.0.1:PORT/ocsp -- POOL [TYPE]
--
-- POOL is a file of records, each a 2-byte big-endian length followed by the DER body (written
-- by `kyso_bench_serve prepare`); TYPE is the Content-Type (default application/ocsp-request).
-- Every request is formatted once in init(), so request() only picks the next one.
-- With -t > 1 each thread has its own Lua state and starts at a different offset.

local requests = {}
local count = 0
local next_index = 0

local thread_counter = 0
function setup(thread)
  thread:set("offset", thread_counter)
  thread_counter = thread_counter + 1
end

function init(args)
  local pool = args[1]
  local content_type = args[2] or "application/ocsp-request"
  if pool == nil then
    error("post.lua: pass the request pool after --, e.g. -- ocsp-nononce.bin")
  end
  local f = assert(io.open(pool, "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  local size = #data
  while pos + 1 <= size do
    local hi, lo = data:byte(pos, pos + 1)
    local len = hi * 256 + lo
    local body = data:sub(pos + 2, pos + 1 + len)
    count = count + 1
    requests[count] = wrk.format("POST", nil, { ["Content-Type"] = content_type }, body)
    pos = pos + 2 + len
  end
  if count == 0 then
    error("post.lua: no requests in " .. pool)
  end
  -- Threads start spread over the pool.
  next_index = ((tonumber(offset) or 0) * 7919) % count
end

function request()
  next_index = next_index + 1
  if next_index > count then
    next_index = 1
  end
  return requests[next_index]
end

-- wrk script for bench:server: every request presents a distinct, never-used refresh token.
-- Each wrk thread takes its share of the tokens in TOKENS_FILE and keeps them in a free list:
-- a request pops a token nobody else holds, its response pushes the successor back.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(os.getenv("TOKENS_FILE"), "r"))
  local per = tonumber(os.getenv("TOKENS_PER_THREAD"))
  pool = {}
  failures = 0
  starved = 0
  local i = 0
  for line in file:lines() do
    if i >= index * per and i < (index + 1) * per then table.insert(pool, line) end
    i = i + 1
  end
  file:close()
end

function request()
  local token = table.remove(pool)
  if token == nil then
    starved = starved + 1
    token = "trt_none"
  end
  -- The CSRF header a first-party client (@tessera/client) sends on every cookie request.
  return wrk.format("POST", "/auth/refresh", { ["Cookie"] = "__Secure-tessera_rt=" .. token, ["Content-Length"] = "0", ["X-Tessera-CSRF"] = "1" })
end

function response(status, headers, body)
  local cookie = headers["Set-Cookie"] or headers["set-cookie"] or ""
  local token = string.match(cookie, "__Secure%-tessera_rt=(trt_[%w_%-]+)")
  if status == 200 and token ~= nil then
    table.insert(pool, token)
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local f, s = 0, 0
  for _, t in ipairs(threads) do
    f = f + t:get("failures")
    s = s + t:get("starved")
  end
  io.write(string.format("CHAIN failures=%d starved=%d\n", f, s))
end

-- wrk script for bench:cluster's node-oidc-provider baseline: the refresh_token grant, every
-- request presenting a distinct, never-used refresh token (the same free-list scheme as
-- refresh-chain.lua). Each wrk thread takes its share of TOKENS_FILE; a request pops a token
-- nobody else holds, its response pushes the rotated successor back. CLIENT_AUTH is the
-- confidential client's `Basic ...` header value.
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
  auth = os.getenv("CLIENT_AUTH")
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
    token = "none"
  end
  return wrk.format("POST", "/token", {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = string.match(body, '"refresh_token":"([%w_%-]+)"')
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

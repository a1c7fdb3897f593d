-- wrk script for bench:http: GET REQUEST_PATH (default /data) with "Authorization: Bearer
-- <token>", the tokens taken in order from TOKENS_FILE (one a line). The WRK_THREADS threads
-- split the file (thread i takes lines i, i + n, i + 2n, ...), so no token is sent twice until a
-- thread has used all of its share; after that it starts over and every further request counts
-- as "wrapped" (a repeat). A file with one line: every thread sends that token every time.
-- Requests are formatted once in init(), so each request costs the generator the same.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  local path = os.getenv("REQUEST_PATH") or "/data"
  local lines = {}
  local file = assert(io.open(os.getenv("TOKENS_FILE"), "r"))
  for line in file:lines() do
    if line ~= "" then table.insert(lines, line) end
  end
  file:close()
  requests = {}
  for i, line in ipairs(lines) do
    if #lines == 1 or (i - 1) % nthreads == index then
      table.insert(requests, wrk.format("GET", path, { ["Authorization"] = "Bearer " .. line }))
    end
  end
  n = #requests
  pos = 0
  sent = 0
  wrapped = 0
end

function request()
  pos = pos + 1
  if pos > n then pos = 1 end
  sent = sent + 1
  if sent > n then wrapped = wrapped + 1 end
  return requests[pos]
end

function done(summary, latency, requests)
  local s, w = 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    w = w + t:get("wrapped")
  end
  io.write(string.format("TOKENS sent=%d wrapped=%d\n", s, w))
end

-- wrk script of bench/run. Configured by environment variables:
--   BENCH_MODE     healthz | loop | loop_feedback | draft | seal | login | flood
--                  (flood: sign-ins spread over 400 accounts and, through
--                  X-Forwarded-For from a trusted proxy, over as many client
--                  addresses as requests; 503s and 429s are counted)
--   BENCH_LIST     file of ids to walk (loop ids, or "interview writer comps" lines)
--   BENCH_TOKENS   file of access tokens: line 1 the reader's, lines 2.. writer 1..6
--   BENCH_THREADS  wrk's -t, so threads walk disjoint parts of the list
--   BENCH_ACK      (seal) write the interview id of every acknowledged seal,
--                  one per line, to BENCH_ACK.<thread>
-- Prints one "BENCH key=value ..." line that bench/run parses.

local mode = os.getenv("BENCH_MODE") or "healthz"
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local counter = 0
local all_threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(all_threads, thread)
end

local function lines(path)
  local out = {}
  if path == nil or path == "" then return out end
  for line in io.lines(path) do
    if line ~= "" then table.insert(out, line) end
  end
  return out
end

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s, "[^" .. sep .. "]+") do table.insert(out, part) end
  return out
end

local items, tokens, pos, step, serial
local evidence = "Described a production incident in detail: what they saw, what they changed, "
  .. "who they told, and what they measured afterwards to know it worked."

function init(args)
  items = lines(os.getenv("BENCH_LIST"))
  tokens = lines(os.getenv("BENCH_TOKENS"))
  pos = tid
  step = nthreads
  serial = 0
  n503 = 0
  n429 = 0
  local ack_path = os.getenv("BENCH_ACK")
  if mode == "seal" and ack_path ~= nil and ack_path ~= "" then
    ack = io.open(ack_path .. "." .. tid, "w")
    ack:setvbuf("line")
  end
end

function response(status, headers, body)
  if status == 503 then n503 = n503 + 1 elseif status == 429 then n429 = n429 + 1 end
  if ack ~= nil and status == 200 then
    local interview = string.match(body, '"interview_id":"([0-9a-f-]+)"')
    if interview ~= nil then ack:write(interview, "\n") end
  end
end

local function next_item()
  local item = items[pos]
  pos = pos + step
  if item == nil then
    -- Wrapping around would re-seal sealed feedback; a seal list must be
    -- long enough for the whole run (bench/run sizes it).
    pos = tid
    item = items[pos]
    pos = pos + step
  end
  return item
end

local function auth(token)
  return { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
  serial = serial + 1
  if mode == "healthz" then
    return wrk.format("GET", "/healthz")
  elseif mode == "loop" then
    return wrk.format("GET", "/api/v1/loops/" .. next_item(), auth(tokens[1]))
  elseif mode == "loop_feedback" then
    return wrk.format("GET", "/api/v1/loops/" .. next_item() .. "/feedback", auth(tokens[1]))
  elseif mode == "login" then
    local body = string.format('{"email":"member%d@bench.example","password":"%s"}',
      (tid * 1000 + serial) % 32 + 1, os.getenv("BENCH_PASSWORD"))
    return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
  elseif mode == "flood" then
    local n = tid * 1000003 + serial
    local body = string.format('{"email":"member%d@bench.example","password":"%s"}',
      n % 400 + 1, os.getenv("BENCH_PASSWORD"))
    local forwarded = string.format("10.%d.%d.%d", tid % 256, math.floor(serial / 256) % 256, serial % 256)
    return wrk.format("POST", "/api/v1/auth/login",
      { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = forwarded }, body)
  end
  local f = split(next_item(), " ")
  local interview, writer, comps = f[1], tonumber(f[2]), split(f[3], ",")
  local headers = auth(tokens[writer + 1])
  if mode == "seal" then
    return wrk.format("POST", "/api/v1/interviews/" .. interview .. "/feedback/seal", headers, "")
  end
  local ratings = {}
  for i, c in ipairs(comps) do
    ratings[i] = string.format('{"competency_id":"%s","rating":%d,"evidence":"%s"}',
      c, (serial + i) % 4 + 1, evidence)
  end
  local body = string.format(
    '{"ratings":[%s],"vote":"inclined_to_hire","summary":"Revision %d-%d: solid on ownership, weaker on depth."}',
    table.concat(ratings, ","), tid, serial)
  return wrk.format("PUT", "/api/v1/interviews/" .. interview .. "/feedback", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d status_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status, e.status))
  local s503, s429 = 0, 0
  for _, t in ipairs(all_threads) do
    s503 = s503 + (t:get("n503") or 0)
    s429 = s429 + (t:get("n429") or 0)
  end
  io.write(string.format("BENCH_STATUS s503=%d s429=%d\n", s503, s429))
end

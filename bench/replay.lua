-- wrk script: replay request targets from a file, round-robin per thread, and count
-- answers by status so bench/run can check them (and the miss log) exactly.
--
--   wrk -s bench/replay.lua URL -- PATHS_FILE [REFRESH] [SWITCH_AT TAIL_FILE]
--
-- PATHS_FILE  one request target per line (path plus optional query, as sent on the wire)
-- REFRESH     1: append _refresh=1 to every target (a cold lookup, same URL otherwise)
-- SWITCH_AT   unix time (s): from then on targets come from TAIL_FILE instead (0: never).
--             With a tail of hits (never logged) no logged miss is in flight when wrk stops,
--             so every logged miss is one wrk saw answered and the miss log can be checked
--             exactly.
--
-- Every request is a GET: wrk's parser is not told a request was HEAD, so it waits for the
-- Content-Length body of a HEAD answer (a 404 carries one) and the connection hangs.
--
-- done() prints one line "BENCHJSON {...}" that bench/run parses.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function read_targets(path, refresh)
  local list = {}
  for line in io.lines(path) do
    if #line > 0 then
      if refresh then
        line = line .. (line:find("?", 1, true) and "&" or "?") .. "_refresh=1"
      end
      list[#list + 1] = line
    end
  end
  return list
end

function init(args)
  local refresh = args[2] == "1"
  paths = read_targets(args[1], refresh)
  switch_at = tonumber(args[3] or "0") or 0
  tail = (switch_at > 0) and read_targets(args[4], refresh) or nil
  -- Threads start at different offsets, so they do not ask for the same line in lockstep.
  idx = ((tid - 1) * 7919) % #paths + 1
  tail_idx = 1
  switched = false
  sent_main, sent_tail = 0, 0
  -- wrk calls request() once in the first thread to check the script; that one is never sent.
  verifying = (tid == 1)
  statuses = {}
  symbol_not_found = 0 -- 404 with the body "Symbol Not Found": GET misses, the logged ones
end

function request()
  if verifying then
    verifying = false
    return wrk.format("GET", paths[1])
  end
  if tail and not switched and now() >= switch_at then
    switched = true
    tail_idx = ((tid - 1) * 7919) % #tail + 1
  end
  local target
  if switched then
    target = tail[tail_idx]
    tail_idx = tail_idx % #tail + 1
    sent_tail = sent_tail + 1
  else
    target = paths[idx]
    idx = idx % #paths + 1
    sent_main = sent_main + 1
  end
  return wrk.format("GET", target)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 404 and body and body:sub(1, 16) == "Symbol Not Found" then
    symbol_not_found = symbol_not_found + 1
  end
end

function done(summary, latency, requests)
  local total = { sent_main = 0, sent_tail = 0, symbol_not_found = 0 }
  local by_status = {}
  for _, t in ipairs(threads) do
    total.sent_main = total.sent_main + t:get("sent_main")
    total.sent_tail = total.sent_tail + t:get("sent_tail")
    total.symbol_not_found = total.symbol_not_found + t:get("symbol_not_found")
    for status, count in pairs(t:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"sent_main":%d,"sent_tail":%d,"symbol_not_found":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, total.sent_main, total.sent_tail, total.symbol_not_found,
    table.concat(parts, ",")))
end

-- wrk script for scripts/bench-webhooks: replays a pre-generated list of signed
-- CloudPayments notifications exactly once, then stops.
--
--   wrk -t2 -c32 --latency -s replay.lua http://127.0.0.1:28080 -- <dir>
--
-- <dir>/reqs-<n>.tsv holds thread n's requests, one per line: path \t Content-HMAC \t body.
-- Each thread reserves a request in delay() (0 ms) before request() is called, and parks
-- its connections (delay 1 h) once its list is used up, so no filler requests are sent;
-- when every one of its requests has been answered the thread records the time, writes
-- <dir>/done-<n> and stops. wrk's main thread sleeps for the whole -d regardless, so the
-- driver (bench_webhooks.py) waits for the done files and sends wrk SIGINT, which ends
-- the run and calls done(). The replay time is measured here (first send to last answer),
-- not by wrk's own duration.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } movix_timespec;
int clock_gettime(int clk_id, movix_timespec *tp);
]]
local ts = ffi.new("movix_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  dir = args[1]
  reqs = {}
  for line in io.lines(dir .. "/reqs-" .. id .. ".tsv") do
    local path, mac, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Content-HMAC"] = mac,
    }, body)
  end
  reserved, sent, answered, ok, not_ok, bad_status = 0, 0, 0, 0, 0, 0
  first_us, last_us = 0, 0
  nreqs = #reqs
end

function delay()
  if reserved >= #reqs then return 3600000 end
  if reserved == 0 then first_us = now_us() end
  reserved = reserved + 1
  return 0
end

function request()
  -- wrk calls request() once on thread 0 before the run to verify it (no delay() before
  -- it): answer that call without consuming the list.
  if sent >= reserved then return reqs[1] end
  sent = sent + 1
  return reqs[sent]
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif body:match('"code"%s*:%s*0[^%d]') or body:match('"code"%s*:%s*0$') then
    ok = ok + 1
  else
    not_ok = not_ok + 1
  end
  if answered == #reqs then
    last_us = now_us()
    -- wrk's main thread sleeps for the whole -d; the driver waits for these files and
    -- then sends wrk SIGINT, which ends the run and prints done().
    local f = io.open(dir .. "/done-" .. id, "w")
    f:write(tostring(answered), "\n")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total, ok_all, not_ok_all, bad_all = 0, 0, 0, 0
  local first, last = nil, 0
  for _, t in ipairs(threads) do
    local f, l = t:get("first_us"), t:get("last_us")
    if f > 0 and (first == nil or f < first) then first = f end
    if l > last then last = l end
    total = total + t:get("answered")
    ok_all = ok_all + t:get("ok")
    not_ok_all = not_ok_all + t:get("not_ok")
    bad_all = bad_all + t:get("bad_status")
  end
  for _, t in ipairs(threads) do
    io.write(string.format("thread %d: %d requests, %d sent, %d answered\n", t:get("id"), t:get("nreqs"), t:get("sent"), t:get("answered")))
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT {\"replay_us\":%d,\"wrk_duration_us\":%d,\"requests\":%d,\"answered\":%d,\"code0\":%d,\"code_not0\":%d," ..
    "\"http_not200\":%d,\"errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d}," ..
    "\"latency_us\":{\"min\":%d,\"mean\":%.1f,\"max\":%d,\"p50\":%d,\"p90\":%d,\"p99\":%d,\"p999\":%d}}\n",
    (first and last > 0) and (last - first) or -1, summary.duration, summary.requests, total, ok_all, not_ok_all, bad_all,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end

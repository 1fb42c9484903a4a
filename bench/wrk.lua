-- wrk script for ops/live.py's wrk(). With BENCH_TOKEN set: POST /api/recommend with
-- random valid demographics (pre-built per thread, so that wrk spends little CPU per
-- request); otherwise wrk's own request (GET of the URL). done() prints one JSON line.

local token = os.getenv("BENCH_TOKEN")
local threads = {}

function setup(thread)
  thread:set("seed", #threads + 1)
  table.insert(threads, thread)
end

if token then
  local genders = {"M", "F", "O"}
  local occupations = {
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment",
    "executive", "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none",
    "other", "programmer", "retired", "salesman", "scientist", "student", "technician",
    "writer",
  }
  local requests, next_request = {}, 1

  function init(args)
    math.randomseed(seed * 7919)
    local headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
    }
    for i = 1, 4096 do
      local body = string.format(
        '{"age": %d, "gender": "%s", "occupation": "%s"}',
        math.random(0, 120), genders[math.random(1, 3)], occupations[math.random(1, 21)]
      )
      requests[i] = wrk.format("POST", "/api/recommend", headers, body)
    end
  end

  function request()
    next_request = next_request % #requests + 1
    return requests[next_request]
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end

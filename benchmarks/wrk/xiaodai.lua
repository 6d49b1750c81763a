-- wrk script for benchmarks/bench_http.py: authenticated xiaodai requests from outside the server.
--
--   WRK_USERS=users.txt WRK_KIND=loans|loan|repay|apply WRK_RUN=<nonce> wrk -s xiaodai.lua ...
--
-- users.txt holds one "<bearer token> <loan id>" per line. Each wrk thread walks the users round-robin,
-- starting its share of the list further on (WRK_THREADS threads: thread t at t * #users / WRK_THREADS), so
-- two threads' requests in flight are for different borrowers unless the list is short (with 16 users and
-- 16 connections, every borrower has a payment in flight nearly all the time: the same loan's payments
-- queue on its row lock; see docs/BENCHMARKS.md, repay5). Before repay5 the offset was 7 whatever the list's
-- length, so the threads' windows of in-flight borrowers overlapped for the whole run; repayments and applications carry an Idempotency-Key unique to the run,
-- the thread and the request, so every request posts once. done() prints one JSON line for the driver.

local users = {}
local kind = os.getenv("WRK_KIND") or "loans"
local run = os.getenv("WRK_RUN") or "run"
local counter = 0
local tid = 0
local threads = {}

-- the applicant states only catalogue features (as bench_http.py's APPLY): platform and bureau values are
-- looked up by xiaodai, and a request carrying one is refused
local APPLY = '{"applicant":{"age":34,"monthly_income":"9000","monthly_debt_payments":"500",' ..
  '"employment_type":"employed","employment_tenure_years":8,"housing":"owner","dependants":1,' ..
  '"purpose":"consumption"},"request":{"amount":"10000","term":12},"consent_credit_check":true}'

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("WRK_USERS")) do
    local token, loan = line:match("^(%S+)%s+(%S+)$")
    if token then table.insert(users, {token = token, loan = loan}) end
  end
  tid = tonumber(wrk.thread:get("tid")) or 0
  counter = tid * math.floor(#users / (tonumber(os.getenv("WRK_THREADS")) or 2))
end

function request()
  counter = counter + 1
  local u = users[(counter % #users) + 1]
  local headers = {["Authorization"] = "Bearer " .. u.token}
  if kind == "loans" then
    return wrk.format("GET", "/api/loans", headers)
  elseif kind == "loan" then
    return wrk.format("GET", "/api/loans/" .. u.loan, headers)
  end
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = string.format("%s-%d-%d", run, tid, counter)
  if kind == "repay" then
    return wrk.format("POST", "/api/loans/" .. u.loan .. "/repayments", headers, '{"amount":"1.00"}')
  end
  return wrk.format("POST", "/api/applications", headers, APPLY)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

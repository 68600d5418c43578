-- wrk script: POST one fixed DynamoDB Query (JSON 1.0) for the 20 items of one partition.
--   BENCH_RANGE_TABLE=bench_range wrk -t1 -c2 -d10s -s benchmarks/wrk/query.lua http://127.0.0.1:PORT/
-- The table (hash key "pk", range key "sk", both S) must hold 20 items with pk="part-000":
-- benchmarks/tables.py writes them before it runs wrk. BENCH_RANGE_TABLE, default "bench_range".
-- Servers that emulate DynamoDB locally do not check signatures, so the Authorization header
-- only has to look like SigV4 (its credential scope names the service).
local tbl = os.getenv("BENCH_RANGE_TABLE") or "bench_range"

wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.Query"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 "
  .. "Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
  .. "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
  .. "Signature=" .. string.rep("0", 64)
wrk.body = '{"TableName":"' .. tbl .. '",'
  .. '"KeyConditionExpression":"pk = :p",'
  .. '"ExpressionAttributeValues":{":p":{"S":"part-000"}}}'

-- A 200 answer that is not the partition's 20 items is counted as wrong (wrk's status_errors
-- only count non-2xx answers). Each wrk thread has its own Lua state: done() asks each.
local threads = {}
wrong = 0

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"Count"%s*:%s*20%s*[,}]') then
    wrong = wrong + 1
  end
end

-- One JSON line for benchmarks/tables.py: requests, duration and latency in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  local wrong_total = 0
  for _, thread in ipairs(threads) do
    wrong_total = wrong_total + (thread:get("wrong") or 0)
  end
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,'
    .. '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,'
    .. '"p50_us":%d,"p99_us":%d,"max_us":%d,"wrong_answers":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max, wrong_total))
end

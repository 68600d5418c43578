-- wrk script: POST one fixed DynamoDB GetItem (JSON 1.0) over and over.
--   wrk -t1 -c2 -d10s -s benchmarks/wrk/getitem.lua http://127.0.0.1:PORT/
-- The item pk="wrk-item" must exist in the table: BENCH_TABLE, default "bench_hash".
-- Servers that emulate DynamoDB locally do not check signatures, so the Authorization header
-- only has to look like SigV4 (its credential scope names the service).
local tbl = os.getenv("BENCH_TABLE") or "bench_hash"

wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 "
  .. "Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
  .. "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
  .. "Signature=" .. string.rep("0", 64)
wrk.body = '{"TableName":"' .. tbl .. '","Key":{"pk":{"S":"wrk-item"}}}'

-- One JSON line for benchmarks/tables.py: requests, duration and latency in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,'
    .. '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,'
    .. '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end

-- wrk script: POST PutItems with a new partition key every time, so each one is a real change
-- (an identical overwrite produces no stream record).
--   BENCH_TABLE=t wrk -t1 -c2 -d10s -s benchmarks/wrk/putitem_unique.lua http://127.0.0.1:PORT/
local tbl = os.getenv("BENCH_TABLE") or "bench_hash"
local counter = 0

wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.PutItem"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 "
  .. "Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
  .. "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
  .. "Signature=" .. string.rep("0", 64)

function request()
  counter = counter + 1
  local body = '{"TableName":"' .. tbl .. '","Item":{"pk":{"S":"k-' .. counter .. '-'
    .. math.random(1, 1000000000) .. '"},"name":{"S":"Ada Lovelace"},"n":{"N":"'
    .. counter .. '"},"note":{"S":"' .. string.rep("x", 128) .. '"}}}'
  return wrk.format(nil, nil, nil, body)
end

-- One JSON line for benchmarks/tables.py and streams.py: requests, duration, latency in µs.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,'
    .. '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,'
    .. '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end

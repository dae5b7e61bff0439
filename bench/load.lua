-- wrk script: POST a statement ($TARN_BENCH_SQL, default a trivial one; no double
-- quotes) with the bearer token from $TARN_TOKEN.
wrk.method = "POST"
wrk.path = "/v1/statements"
wrk.body = '{"sql": "' .. (os.getenv("TARN_BENCH_SQL") or "SELECT 1 AS one") .. '"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TARN_TOKEN")

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non_2xx_or_socket_errors=%d\n",
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("requests=%d rps=%.1f\n", summary.requests, summary.requests / (summary.duration / 1e6)))
end

-- SPDX-License-Identifier: Apache-2.0
-- Shared by the wrk scripts of bench/run.sh: counts 2xx answers per thread and
-- writes "requests_per_s p50_ms p99_ms ok non2xx" to the file named by BENCH_OUT.
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      bad = bad + 1
      if bad <= 3 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
   end
end

function load_ids(path)
   local ids = {}
   for line in io.lines(path) do
      if #line > 0 then ids[#ids + 1] = line end
   end
   return ids
end

function done(summary, latency, requests)
   local total_ok, total_bad = 0, 0
   for _, t in ipairs(threads) do
      total_ok = total_ok + t:get("ok")
      total_bad = total_bad + t:get("bad")
   end
   local f = io.open(os.getenv("BENCH_OUT"), "w")
   f:write(string.format("%.1f %.3f %.3f %d %d\n",
                         summary.requests / (summary.duration / 1e6),
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                         total_ok, total_bad))
   f:close()
end

-- SPDX-License-Identifier: Apache-2.0
-- W2: batch reports of 1,000 increments (count 1 for each of 1,000 random
-- models). Each 2xx answer acknowledges 1,000 increments.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
function init(args)
   ok = 0; bad = 0; n = 0
   local ids = load_ids(os.getenv("BENCH_IDS"))
   run = os.getenv("BENCH_RUN")
   math.randomseed(os.time() + id)
   local items = {}
   for i = 1, 1000 do
      items[i] = '{"model":"' .. ids[math.random(#ids)] .. '","count":1}'
   end
   body = '{"reports":[' .. table.concat(items, ",") .. ']}'
   headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
              ["Content-Type"] = "application/json"}
end
function request()
   n = n + 1
   headers["Idempotency-Key"] = run .. "-w2-" .. id .. "-" .. n
   return wrk.format("POST", "/v1/inference-reports", headers, body)
end

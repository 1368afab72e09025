-- SPDX-License-Identifier: Apache-2.0
-- W1: one durable increment of a random model per request, each with its own
-- Idempotency-Key. 2xx answers are what the server acknowledged.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
function init(args)
   ok = 0; bad = 0; n = 0
   ids = load_ids(os.getenv("BENCH_IDS"))
   run = os.getenv("BENCH_RUN")
   math.randomseed(os.time() + id)
   headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
              ["Content-Type"] = "application/json"}
end
function request()
   n = n + 1
   headers["Idempotency-Key"] = run .. "-w1-" .. id .. "-" .. n
   return wrk.format("POST", "/v1/models/" .. ids[math.random(#ids)] .. "/inferences", headers,
                     '{"count":1}')
end

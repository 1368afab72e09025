-- SPDX-License-Identifier: Apache-2.0
-- Series: twelve weeks of a random model's inferences and their CO2e, half of them
-- for the model's whole family (its maintained days).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
function init(args)
   ok = 0; bad = 0
   ids = load_ids(os.getenv("BENCH_IDS"))
   math.randomseed(os.time() + id)
end
function request()
   local scope = math.random(2) == 1 and "&scope=family" or ""
   return wrk.format("GET", "/v1/models/" .. ids[math.random(#ids)] ..
                     "/series?granularity=week" .. scope)
end

-- SPDX-License-Identifier: Apache-2.0
-- Top N: the ten most-used or most-emitting models (each order's own index).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
local sorts = {"-inferences", "-own_co2e_kg"}
function init(args)
   ok = 0; bad = 0
   math.randomseed(os.time() + id)
end
function request()
   return wrk.format("GET", "/v1/models?limit=10&sort=" .. sorts[math.random(#sorts)])
end

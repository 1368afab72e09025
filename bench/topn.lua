-- SPDX-License-Identifier: Apache-2.0
-- Top N: the ten models first in one of the figure orders at random (each its own
-- index), half of the pages with each item's footprint (one lineage read per item).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
local sorts = {"-inferences", "-own_co2e_kg", "-total_co2e_kg", "-co2e_g_per_inference"}
function init(args)
   ok = 0; bad = 0
   math.randomseed(os.time() + id)
end
function request()
   local include = math.random(2) == 1 and "&include=footprint" or ""
   return wrk.format("GET", "/v1/models?limit=10&sort=" .. sorts[math.random(#sorts)] .. include)
end

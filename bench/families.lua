-- SPDX-License-Identifier: Apache-2.0
-- Families: the first page of the families, largest first by one of the three
-- orders at random (each walks its own index).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
local sorts = {"-own_co2e_kg", "-inferences", "-size"}
function init(args)
   ok = 0; bad = 0
   math.randomseed(os.time() + id)
end
function request()
   return wrk.format("GET", "/v1/families?limit=20&sort=" .. sorts[math.random(#sorts)])
end

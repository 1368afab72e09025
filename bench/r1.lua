-- SPDX-License-Identifier: Apache-2.0
-- R1: the footprint of a random deep model, policy=usage.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
function init(args)
   ok = 0; bad = 0
   ids = load_ids(os.getenv("BENCH_IDS"))
   math.randomseed(os.time() + id)
end
function request()
   return wrk.format("GET", "/v1/models/" .. ids[math.random(#ids)] .. "/footprint?policy=usage")
end

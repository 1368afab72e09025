-- SPDX-License-Identifier: Apache-2.0
-- Totals: the whole ledger's totals (one maintained row).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
function init(args)
   ok = 0; bad = 0
end
function request()
   return wrk.format("GET", "/v1/totals")
end

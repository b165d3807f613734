-- POST /api/v1/users/bulk with 1,000 new users a request; usernames unique per run ($BENCH_TAG).
local count, tag = 0, ""

function init(args)
  -- The tag names the server and the run (bench/http_load.py); the clock, a run of this script by hand.
  tag = os.getenv("BENCH_TAG") or string.format("%d", os.time())
end

-- The command line's headers (-H: the bearer token), and the body's type.
function headers()
  local all = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do all[name] = value end
  return all
end

function request()
  local items = {}
  for i = 1, 1000 do
    count = count + 1
    local name = "b" .. tag .. count
    items[i] = '{"username":"' .. name .. '","email":"' .. name .. '@example.com"}'
  end
  local body = "[" .. table.concat(items, ",") .. "]"
  return wrk.format("POST", "/api/v1/users/bulk", headers(), body)
end

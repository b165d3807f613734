-- POST one new user; usernames are unique per run ($BENCH_TAG).
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
  count = count + 1
  local name = "u" .. tag .. count
  local body = '{"username":"' .. name .. '","email":"' .. name .. '@example.com","first_name":"Ada"}'
  return wrk.format("POST", "/api/v1/users", headers(), body)
end

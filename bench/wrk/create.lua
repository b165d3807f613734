-- POST one new user; usernames are unique per thread and run ($BENCH_TAG).
local count, tag = 0, ""

function init(args)
  math.randomseed(os.time() + os.clock() * 1e6)
  tag = os.getenv("BENCH_TAG") .. string.format("%06d", math.random(999999))
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

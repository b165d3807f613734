-- POST /api/v1/users/bulk with 1,000 new users a request; usernames unique per thread and run.
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
  local items = {}
  for i = 1, 1000 do
    count = count + 1
    local name = "b" .. tag .. count
    items[i] = '{"username":"' .. name .. '","email":"' .. name .. '@example.com"}'
  end
  local body = "[" .. table.concat(items, ",") .. "]"
  return wrk.format("POST", "/api/v1/users/bulk", headers(), body)
end

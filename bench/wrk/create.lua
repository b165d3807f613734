-- POST one new user; usernames are unique per thread and run ($BENCH_TAG).
local count, tag = 0, ""

function init(args)
  math.randomseed(os.time() + os.clock() * 1e6)
  tag = os.getenv("BENCH_TAG") .. string.format("%06d", math.random(999999))
end

function request()
  count = count + 1
  local name = "u" .. tag .. count
  local body = '{"username":"' .. name .. '","email":"' .. name .. '@example.com","first_name":"Ada"}'
  return wrk.format("POST", "/api/v1/users", { ["Content-Type"] = "application/json" }, body)
end

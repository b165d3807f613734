-- POST one new user with an Idempotency-Key of its own; usernames are unique per run ($BENCH_TAG).
local count, tag = 0, ""

function init(args)
  tag = os.getenv("BENCH_TAG") or string.format("%d", os.time())
end

function request()
  count = count + 1
  local name = "k" .. tag .. count
  local all = { ["Content-Type"] = "application/json", ["Idempotency-Key"] = name }
  for header, value in pairs(wrk.headers) do all[header] = value end
  local body = '{"username":"' .. name .. '","email":"' .. name .. '@example.com","first_name":"Ada"}'
  return wrk.format("POST", "/api/v1/users", all, body)
end

-- GET one user by id, picked at random from the ids in $BENCH_IDS (one per line).
local ids = {}

function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", "/api/v1/users/" .. ids[math.random(#ids)])
end

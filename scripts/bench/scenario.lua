-- One wrk script for every api scenario; SCENARIO picks the request.
--   wrk -s scenario.lua -- <scenario> <tokens file>
-- Each request goes out as a different customer (round robin over tokens.txt); each
-- transfer carries its own idempotency key, between random pairs.

local scenario, tokens_path
local rows = {}
local counter = 0
errors, refusals = 0, 0  -- globals: done() reads them from each thread
local threads = {}
local thread_id = 0

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  scenario = args[1]
  tokens_path = args[2]
  for line in io.lines(tokens_path) do
    local token, id, number = line:match("^(%S+)%s+(%S+)%s+(%S+)$")
    if token then rows[#rows + 1] = { token = token, id = id, number = number } end
  end
  math.randomseed(os.time() + (tid or 0) * 7919)
end

local function gql(token, body)
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function request()
  counter = counter + 1
  local me = rows[math.random(#rows)]
  if scenario == "hello" then
    -- The trivial handler, asked the way the api scenarios ask (a customer's token,
    -- every response read by response() below): the HTTP stack's limit with this
    -- driver's own per-request cost included.
    return wrk.format("GET", "/", { ["Authorization"] = "Bearer " .. me.token })
  elseif scenario == "accounts-graphql" then
    return gql(me.token, '{"query":"{ accounts { id accountNumber type balance } }"}')
  elseif scenario == "accounts-rest" then
    return wrk.format("GET", "/api/accounts", { ["Authorization"] = "Bearer " .. me.token })
  elseif scenario == "me" then
    return gql(me.token, '{"query":"{ me { id username email } }"}')
  elseif scenario == "transfer-graphql" or scenario == "transfer-rest" then
    local other = rows[math.random(#rows)]
    while other.id == me.id do other = rows[math.random(#rows)] end
    local key = string.format("bench-%d-%d-%d", tid or 0, counter, math.random(1e9))
    if scenario == "transfer-rest" then
      return wrk.format("POST", "/api/transactions", {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. me.token,
        ["Idempotency-Key"] = key,
      }, string.format('{"from_account":%s,"to_account":%s,"amount":"0.01"}', me.id, other.id))
    end
    return gql(me.token, string.format(
      '{"query":"mutation($i: TransferInput!) { transfer(input: $i) { id } }","variables":{"i":{"fromAccountId":"%s","toAccountNumber":"%s","amount":"0.01","idempotencyKey":"%s"}}}',
      me.id, other.number, key))
  elseif scenario == "login" then
    local n = math.random(0, 9999)
    return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" },
      string.format('{"username":"bench%d","password":"bench-password"}', n))
  elseif scenario == "dashboard" then
    return wrk.format("GET", "/", { ["Cookie"] = "bank_session=" .. me.token })
  elseif scenario == "mixed" then
    -- A customer's visit, as a weighted mix: look at accounts and history most, pay
    -- sometimes, sign in now and then.
    local r = math.random(100)
    if r <= 10 then
      return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" },
        string.format('{"username":"bench%d","password":"bench-password"}', math.random(0, 9999)))
    elseif r <= 50 then
      return gql(me.token, '{"query":"{ me { username accounts { id accountNumber type balance transactions(first: 5) { edges { node { amount fromAccountNumber toAccountNumber createdAt } } } } } }"}')
    elseif r <= 75 then
      return gql(me.token, string.format('{"query":"{ transactions(accountId: \\"%s\\", first: 20) { edges { node { id amount description createdAt } } pageInfo { hasNextPage endCursor } } }"}', me.id))
    else
      local other = rows[math.random(#rows)]
      while other.id == me.id do other = rows[math.random(#rows)] end
      local key = string.format("mix-%d-%d-%d", tid or 0, counter, math.random(1e9))
      return gql(me.token, string.format(
        '{"query":"mutation($i: TransferInput!) { transfer(input: $i) { id } }","variables":{"i":{"fromAccountId":"%s","toAccountNumber":"%s","amount":"0.01","idempotencyKey":"%s"}}}',
        me.id, other.number, key))
    end
  end
  return wrk.format("GET", "/")
end

function response(status, headers, body)
  if status >= 400 and status ~= 409 then
    errors = errors + 1
  elseif body and body:find('"errors"', 1, true) then
    if body:find("INSUFFICIENT_FUNDS", 1, true) then refusals = refusals + 1 else errors = errors + 1 end
  elseif status == 409 then
    refusals = refusals + 1
  end
end

function done(summary, latency, requests)
  local e, r = 0, 0
  for _, t in ipairs(threads) do
    e = e + (t:get("errors") or 0)
    r = r + (t:get("refusals") or 0)
  end
  io.write(string.format("BENCH_ERRORS %d\nBENCH_REFUSALS %d\n", e, r))
end

-- One wrk script for every scenario; the arguments pick the request and the customers.
--   wrk -s scenario.lua URL -- <scenario> <tokens file> <spread> <threads> [deep file] [from] [to]
-- tokens file: `token account_id account_number` per customer, each line padded to the same
-- width (scripts/bench/run.py mints them with `bench_support tokens`). spread: `uniform`
-- (each request a customer drawn uniformly from all of them),
-- `zipf` (customer of rank k with probability ~ 1/k, ranks scattered over the file), or
-- `sweep` (every customer in turn, so a run of N requests serves N distinct customers).
-- deep file: `token account_id cursor` lines, cursors deep in the hot accounts' history.
-- Each transfer carries its own idempotency key, between random pairs.

local scenario, spread, nthreads
-- The tokens file is read where a request needs it, not loaded: a million tokens are
-- 400 MB, and wrk initialises its threads one after another while the first already
-- measures (loading took ~9 s per thread). Lines are fixed-width records.
local records, width, customers
local deep = {}
local from_date, to_date
local counter, sweep = 0, 0
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
  spread = args[3] or "uniform"
  nthreads = tonumber(args[4] or "1")
  records = assert(io.open(args[2], "rb"))
  width = #records:read("*l") + 1
  customers = math.floor(records:seek("end") / width)
  if args[5] and args[5] ~= "-" then
    for line in io.lines(args[5]) do
      local token, id, cursor = line:match("^(%S+)%s+(%S+)%s+(%S+)")
      if token then deep[#deep + 1] = { token = token, id = id, cursor = cursor } end
    end
  end
  from_date, to_date = args[6], args[7]
  math.randomseed(os.time() + (tid or 0) * 7919)
end

-- Customer i's token, checking account id and account number.
local function customer(i)
  records:seek("set", (i - 1) * width)
  return records:read(width):match("^(%S+)%s+(%S+)%s+(%S+)")
end

-- The index of the next customer.
local function pick()
  local n = customers
  if spread == "zipf" then
    -- floor((n+1)^u) for uniform u is k with probability ln((k+1)/k) / ln(n+1) ~ 1/(k ln n):
    -- Zipf with exponent 1. Ranks are scattered over the file (7919 is prime to n) from
    -- rank 1 at line 7920, so the busiest customers are not the seeded hot accounts (the
    -- first lines: their statements are 120,000 postings long).
    local k = math.floor((n + 1) ^ math.random())
    if k > n then k = n end
    if k < 1 then k = 1 end
    return (k * 7919) % n + 1
  elseif spread == "sweep" then
    sweep = sweep + 1
    return ((sweep - 1) * nthreads + (tid or 0)) % n + 1
  end
  return math.random(n)
end

local function other_than(i)
  local n = customers
  local j = math.random(n - 1)
  if j >= i then j = j + 1 end
  return j
end

local function gql(token, body)
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

local function transfer_graphql(token, id, i, key)
  local _, _, number = customer(other_than(i))
  return gql(token, string.format(
    '{"query":"mutation($i: TransferInput!) { transfer(input: $i) { id } }","variables":{"i":{"fromAccountId":"%s","toAccountNumber":"%s","amount":"0.01","idempotencyKey":"%s"}}}',
    id, number, key))
end

-- One document with variables, as the web and any GraphQL client send it: an id spliced
-- into the text would make every request a new document to parse and validate.
local function history(token, id, after)
  local cursor = after and string.format(',"after":"%s"', after) or ""
  return gql(token, string.format(
    '{"query":"query($a: ID!, $after: String) { transactions(accountId: $a, first: 20, after: $after) { edges { node { id amount description createdAt fromAccountNumber toAccountNumber } } pageInfo { hasNextPage endCursor } } }","variables":{"a":"%s"%s}}',
    id, cursor))
end

function request()
  counter = counter + 1
  local i = pick()
  local token, id = customer(i)
  if scenario == "hello" then
    -- The trivial handler, asked the way the api scenarios ask (a customer's token,
    -- every response read by response() below): the HTTP stack's limit with this
    -- driver's own per-request cost included.
    return wrk.format("GET", "/", { ["Authorization"] = "Bearer " .. token })
  elseif scenario == "accounts-graphql" then
    return gql(token, '{"query":"{ accounts { id accountNumber type balance } }"}')
  elseif scenario == "accounts-rest" then
    return wrk.format("GET", "/api/accounts", { ["Authorization"] = "Bearer " .. token })
  elseif scenario == "me" then
    return gql(token, '{"query":"{ me { id username email } }"}')
  elseif scenario == "transfer-graphql" then
    return transfer_graphql(token, id, i, string.format("bench-%d-%d-%d", tid or 0, counter, math.random(1e9)))
  elseif scenario == "transfer-rest" then
    local _, other = customer(other_than(i))
    return wrk.format("POST", "/api/transactions", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
      ["Idempotency-Key"] = string.format("bench-%d-%d-%d", tid or 0, counter, math.random(1e9)),
    }, string.format('{"from_account":%s,"to_account":%s,"amount":"0.01"}', id, other))
  elseif scenario == "history-first" then
    return history(token, id, nil)
  elseif scenario == "history-deep" then
    local d = deep[math.random(#deep)]
    return history(d.token, d.id, d.cursor)
  elseif scenario == "statement" then
    return wrk.format("GET", string.format("/api/accounts/%s/statement.csv?from=%s&to=%s", id, from_date, to_date),
      { ["Authorization"] = "Bearer " .. token })
  elseif scenario == "login" then
    local n = math.random(0, math.min(customers, 10000) - 1)
    return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" },
      string.format('{"username":"bench%d","password":"bench-password"}', n))
  elseif scenario == "dashboard" then
    return wrk.format("GET", "/", { ["Cookie"] = "bank_session=" .. token })
  elseif scenario == "mixed" then
    -- A customer's visit, as a weighted mix: look at accounts and history most, pay
    -- sometimes, sign in now and then.
    local r = math.random(100)
    if r <= 10 then
      return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" },
        string.format('{"username":"bench%d","password":"bench-password"}', math.random(0, math.min(customers, 10000) - 1)))
    elseif r <= 50 then
      return gql(token, '{"query":"{ me { username accounts { id accountNumber type balance transactions(first: 5) { edges { node { amount fromAccountNumber toAccountNumber createdAt } } } } } }"}')
    elseif r <= 75 then
      return history(token, id, nil)
    else
      return transfer_graphql(token, id, i, string.format("mix-%d-%d-%d", tid or 0, counter, math.random(1e9)))
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

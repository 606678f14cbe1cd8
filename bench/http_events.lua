-- wrk script of scripts/bench_http.sh: POST /ingest, each request with new
-- events (event ids unique per wrk thread and request), so that neither server
-- answers from duplicates. Arguments after --: events per request (1 by
-- default). BENCH_TOKEN, when set, is sent as the bearer token; BENCH_RUN names
-- the run in the event ids, so that runs against one database do not repeat ids.
-- Sessions come from a pool of 40,000, each always of the same one of 10,000
-- users, so users and sessions are created, then met again.
local thread_count = 0
-- `id` is not local: setup() sets it in each thread's own Lua state.
local batch, sent = 1, 0
local headers = { ["Content-Type"] = "application/json" }
local run = os.getenv("BENCH_RUN") or "run"

function setup(thread)
    -- Runs in the main Lua state, once per thread, before the threads start.
    thread:set("id", thread_count)
    thread_count = thread_count + 1
end

function init(args)
    batch = tonumber(args[1]) or 1
    local token = os.getenv("BENCH_TOKEN")
    if token and token ~= "" then
        headers["Authorization"] = "Bearer " .. token
    end
end

local function event(n)
    local session = n % 40000
    local user = session % 10000
    return string.format(
        '{"event_id":"%s-%d-%d","user":{"email":"user%d@example.com","name":"User %d"},'
            .. '"session":{"id":"s-%d","started_at":"2026-11-%02dT%02d:00:00Z",'
            .. '"device":{"type":"phone","os":"Android 15","app_version":"3.4.1"}},'
            .. '"metrics":{"talked_time":%d.%d,"microphone_used":true,"speaker_used":%s,"voice_sentiment":0.%d}}',
        run, id, n, user, user, session, 1 + session % 28, session % 24, n % 600, n % 10,
        (n % 2 == 0) and "true" or "false", n % 10)
end

function request()
    local body
    if batch == 1 then
        sent = sent + 1
        body = event(sent)
    else
        local events = {}
        for i = 1, batch do
            sent = sent + 1
            events[i] = event(sent)
        end
        body = "[" .. table.concat(events, ",") .. "]"
    end
    return wrk.format("POST", "/ingest", headers, body)
end

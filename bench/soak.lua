-- wrk script of bench/soak: a mix of requests, a bounded count, statuses counted.
--
--   wrk -tTHREADS ... -s bench/soak.lua URL -- MIXFILE PER_THREAD DONEDIR THREADS
--
-- MIXFILE has one request per line: expected status, path, Accept, If-None-Match, separated by
-- tabs ("-" for no header). Each thread walks the list from its own starting point, and stops
-- after PER_THREAD responses, writing DONEDIR/<thread number> (wrk itself only stops at the end
-- of its -d duration: bench/soak interrupts it once every thread is done). done() prints one
-- line per thread: "soak-thread N issued STATUS=COUNT... got STATUS=COUNT...".

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("number", counter)
    table.insert(threads, thread)
end

local function split(line)
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do
        table.insert(fields, field)
    end
    return fields
end

function init(args)
    local mixfile, per_thread, donedir, nthreads = args[1], tonumber(args[2]), args[3],
                                                   tonumber(args[4])
    requests, expected = {}, {}
    for line in io.lines(mixfile) do
        local f = split(line)
        local headers = {}
        if f[3] ~= "-" then headers["Accept"] = f[3] end
        if f[4] ~= "-" then headers["If-None-Match"] = f[4] end
        table.insert(requests, wrk.format("GET", f[2], headers))
        table.insert(expected, tonumber(f[1]))
    end
    quota, done_file = per_thread, donedir .. "/" .. number
    -- threads start spread over the list, so that they do not ask for the same URL in step
    next_index = math.floor((number - 1) * #requests / nthreads) % #requests + 1
    issued, got, received = {}, {}, 0
end

function request()
    local i = next_index
    next_index = i % #requests + 1
    issued[expected[i]] = (issued[expected[i]] or 0) + 1
    return requests[i]
end

function response(status, headers, body)
    got[status] = (got[status] or 0) + 1
    received = received + 1
    if received == quota then
        local f = io.open(done_file, "w")
        f:write(received, "\n")
        f:close()
        wrk.thread:stop()
    end
end

local function counts(t)
    local keys, out = {}, {}
    for k in pairs(t) do table.insert(keys, k) end
    table.sort(keys)
    for _, k in ipairs(keys) do table.insert(out, k .. "=" .. t[k]) end
    return table.concat(out, " ")
end

function done(summary, latency, requests)
    for _, t in ipairs(threads) do
        io.write(string.format("soak-thread %d issued %s got %s\n", t:get("number"),
                               counts(t:get("issued")), counts(t:get("got"))))
    end
end

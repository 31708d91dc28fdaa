-- Shared by the ledger scripts (prepended to the ones that say so). A subscriber's ledger is one
-- stream of append-only entries; nothing edits or deletes one. Fields: t (earn, hold, capture,
-- release, reverse, expire), pts (signed points), a (allocations "lot:n:exp,…", n signed: which
-- lots a hold took from, a release/reverse gave back to, an expiry took; exp is the lot's
-- expiry, so a lot can be rebuilt from any allocation), exp (earn: epoch seconds it expires,
-- 0 = never), src, sid (earn), ref (redemption), at. A lot is an earn entry, named by its entry
-- id; what is left of it and the balance are recomputed from the entries.
--
-- The snapshot key caches that computation up to an entry (JSON: id, b = the balance, l = the
-- lots holding points as [id, left, exp]), so a script replays only the entries after it. It is
-- derived data, rewritten (never edited) once SNAPSHOT_EVERY entries have piled up after it;
-- deleting it only makes the next script replay the whole stream again.
local SNAPSHOT_EVERY = 64
local function fields(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end
local function id_less(a, b)
  local am, as = string.match(a.id, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b.id, '^(%d+)-(%d+)$')
  if am ~= bm then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end
-- Every lot in earn order ({id, rem, exp}) and the balance (the sum of every entry's points).
local function replay(ledger, snapshot)
  local lots, byid, balance, start = {}, {}, 0, '-'
  local saved = redis.call('GET', snapshot)
  if saved then
    local s = cjson.decode(saved)
    balance, start = s.b, '(' .. s.id
    for _, l in ipairs(s.l) do
      local lot = {id = l[1], rem = l[2], exp = l[3]}
      lots[#lots + 1] = lot
      byid[lot.id] = lot
    end
  end
  local entries = redis.call('XRANGE', ledger, start, '+')
  local rebuilt = false
  for _, e in ipairs(entries) do
    local f = fields(e[2])
    balance = balance + tonumber(f.pts)
    if f.t == 'earn' then
      local lot = {id = e[1], rem = tonumber(f.pts), exp = tonumber(f.exp)}
      lots[#lots + 1] = lot
      byid[e[1]] = lot
    elseif f.a and f.a ~= '' then
      for id, n, exp in string.gmatch(f.a, '([%d%-]+):(%-?%d+):(%d+)') do
        if not byid[id] then  -- a lot emptied before the snapshot, given points back
          byid[id] = {id = id, rem = 0, exp = tonumber(exp)}
          lots[#lots + 1] = byid[id]
          rebuilt = true
        end
        byid[id].rem = byid[id].rem + tonumber(n)
      end
    end
  end
  if rebuilt then table.sort(lots, id_less) end  -- otherwise already in earn order
  if #entries >= SNAPSHOT_EVERY then
    local open = {}
    for _, lot in ipairs(lots) do
      if lot.rem ~= 0 then open[#open + 1] = {lot.id, lot.rem, lot.exp} end
    end
    local json = #open > 0 and cjson.encode(open) or '[]'
    redis.call('SET', snapshot, string.format('{"id":"%s","b":%d,"l":%s}',
      entries[#entries][1], balance, json))
  end
  return lots, balance
end
local function live(lot, now)
  return lot.rem > 0 and (lot.exp == 0 or lot.exp > now)
end
-- Post an expire entry for every lot whose time has come and that still holds points; a second
-- call posts nothing (nothing is left in those lots). Returns points expired, the balance after.
local function expire_due(ledger, snapshot, now)
  local lots, balance = replay(ledger, snapshot)
  local expired = 0
  for _, lot in ipairs(lots) do
    if lot.rem > 0 and lot.exp ~= 0 and lot.exp <= now then
      redis.call('XADD', ledger, '*', 't', 'expire', 'pts', -lot.rem,
        'a', lot.id .. ':' .. -lot.rem .. ':' .. lot.exp, 'at', now)
      expired = expired + lot.rem
      balance = balance - lot.rem
      lot.rem = 0
    end
  end
  return expired, balance, lots
end
-- The earliest expiry among lots that still hold points (0: none).
local function next_expiry(lots)
  local soonest = 0
  for _, lot in ipairs(lots) do
    if lot.rem > 0 and lot.exp ~= 0 and (soonest == 0 or lot.exp < soonest) then
      soonest = lot.exp
    end
  end
  return soonest
end
-- Allocations that give back what the hold entry ``hold_id`` took ("lot:-n" → "lot:n").
local function undo(ledger, hold_id)
  local e = redis.call('XRANGE', ledger, hold_id, hold_id)[1]
  if not e then return '', 0 end
  local f = fields(e[2])
  local back = string.gsub(f.a or '', ':%-', ':')
  return back, -tonumber(f.pts)
end

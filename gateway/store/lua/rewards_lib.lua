-- Shared by the ledger scripts (prepended to the ones that say so). A subscriber's ledger is one
-- stream of append-only entries; nothing edits or deletes one. Fields: t (earn, hold, capture,
-- release, reverse, expire), pts (signed points), a (allocations "lot:n,lot:n", signed: which
-- lots a hold took from, a release/reverse gave back to, an expiry took), exp (earn: epoch
-- seconds it expires, 0 = never), src, sid (earn), ref (redemption), at. A lot is an earn entry,
-- named by its entry id; what is left of it and the balance are recomputed from the entries.
local function fields(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end
-- Every lot in earn order ({id, rem, exp}) and the balance (the sum of every entry's points).
local function replay(ledger)
  local lots, byid, balance = {}, {}, 0
  for _, e in ipairs(redis.call('XRANGE', ledger, '-', '+')) do
    local f = fields(e[2])
    balance = balance + tonumber(f.pts)
    if f.t == 'earn' then
      local lot = {id = e[1], rem = tonumber(f.pts), exp = tonumber(f.exp)}
      lots[#lots + 1] = lot
      byid[e[1]] = lot
    elseif f.a and f.a ~= '' then
      for id, n in string.gmatch(f.a, '([%d%-]+):(%-?%d+)') do
        if byid[id] then byid[id].rem = byid[id].rem + tonumber(n) end
      end
    end
  end
  return lots, balance
end
local function live(lot, now)
  return lot.rem > 0 and (lot.exp == 0 or lot.exp > now)
end
-- Post an expire entry for every lot whose time has come and that still holds points; a second
-- call posts nothing (nothing is left in those lots). Returns points expired, the balance after.
local function expire_due(ledger, now)
  local lots, balance = replay(ledger)
  local expired = 0
  for _, lot in ipairs(lots) do
    if lot.rem > 0 and lot.exp ~= 0 and lot.exp <= now then
      redis.call('XADD', ledger, '*', 't', 'expire', 'pts', -lot.rem,
        'a', lot.id .. ':' .. -lot.rem, 'at', now)
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

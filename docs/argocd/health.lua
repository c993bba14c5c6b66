-- Argo CD health check for connectors.datagalaxy.com/OnlineConnection.
--
-- Install it in argocd-cm under the key
--   resource.customizations.health.connectors.datagalaxy.com_OnlineConnection
-- (see docs/gitops.md). Argo CD sets `obj` to the live resource; the script returns {status, message}.
--
--   Progressing  the operator has not yet acted on the current spec (observedGeneration behind
--                metadata.generation), or Ready is Unknown / not reported yet.
--   Degraded     Ready is False (invalid spec, missing or forbidden Secret, API host not allowed, ...),
--                or the last run failed (LastRunSucceeded is False).
--   Suspended    spec.schedule.suspend is true and nothing is wrong.
--   Healthy      Ready is True and the last run, if any, did not fail. A run in progress stays Healthy:
--                imports can take hours and must not hold up a sync.

local hs = { status = "Progressing", message = "Waiting for the operator to report status" }

local function find_condition(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == kind then
      return condition
    end
  end
  return nil
end

local function describe(condition, fallback)
  local text = condition.reason or fallback
  if condition.message ~= nil and condition.message ~= "" then
    text = text .. ": " .. condition.message
  end
  return text
end

if obj.status == nil then
  return hs
end

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration or 0
if observed < generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = find_condition(obj.status.conditions, "Ready")
local last_run = find_condition(obj.status.conditions, "LastRunSucceeded")
local running = find_condition(obj.status.conditions, "Running")

if ready == nil or ready.status == "Unknown" then
  if ready ~= nil then
    hs.message = describe(ready, "Ready is Unknown")
  end
  return hs
end

if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready, "NotReady")
  return hs
end

if last_run ~= nil and last_run.status == "False" then
  hs.status = "Degraded"
  hs.message = "Last run failed: " .. describe(last_run, "Failed")
  return hs
end

local suspended = obj.spec ~= nil and obj.spec.schedule ~= nil and obj.spec.schedule.suspend == true
if suspended then
  hs.status = "Suspended"
  hs.message = "Scheduled runs are suspended (spec.schedule.suspend)"
  return hs
end

hs.status = "Healthy"
if running ~= nil and running.status == "True" then
  hs.message = describe(running, "RunInProgress")
elseif last_run ~= nil then
  hs.message = describe(last_run, "Succeeded")
else
  hs.message = describe(ready, "Ready")
end
return hs

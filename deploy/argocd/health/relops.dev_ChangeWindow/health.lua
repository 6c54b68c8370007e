-- Argo CD health check for relops.dev/ChangeWindow
-- (argocd-cm key resource.customizations.health.relops.dev_ChangeWindow).
-- Generated from deploy/argocd/health/health.lua.in by generate.py: edit the template, then run
-- `python3 deploy/argocd/health/generate.py`. Argo CD runs this with gopher-lua (Lua 5.1).
--
-- relops status follows kstatus: status.observedGeneration and metav1.Conditions Ready,
-- Reconciling and Stalled. Order of precedence:
--   1. no status, or observedGeneration behind metadata.generation -> Progressing
--      (kstatus: conditions describe an older spec until the operator has seen this one)
--   2. Stalled=True -> Degraded (it cannot progress without a spec change)
--   3. Reconciling=True -> Progressing
--   4. Ready=False -> Degraded; Ready=True -> Healthy
--   5. anything else (no conditions, Ready missing or Unknown) -> Progressing
local hs = {}

local function findCondition(conditions, conditionType)
  if type(conditions) ~= "table" then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if type(condition) == "table" and condition.type == conditionType then
      return condition
    end
  end
  return nil
end

-- The condition's message, else its reason, else the given fallback.
local function describe(condition, fallback)
  if condition ~= nil then
    if type(condition.message) == "string" and condition.message ~= "" then
      return condition.message
    end
    if type(condition.reason) == "string" and condition.reason ~= "" then
      return condition.reason
    end
  end
  return fallback
end

local status = obj.status
if type(status) ~= "table" then
  hs.status = "Progressing"
  hs.message = "Waiting for relops to report status"
  return hs
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil then
  local observed = status.observedGeneration
  if observed == nil or observed < generation then
    hs.status = "Progressing"
    hs.message = "Waiting for relops to observe generation " .. tostring(generation)
    return hs
  end
end

local conditions = status.conditions
local stalled = findCondition(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local reconciling = findCondition(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "Reconciling")
  return hs
end

local ready = findCondition(conditions, "Ready")
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready, "Not ready")
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for the Ready condition")
return hs

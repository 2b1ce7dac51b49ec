import type { ApplyRequest } from '../../src/app/ports.js';

/** The webhook body of design.md §5. Pure: equal requests give equal bodies, so retries re-send identical bytes. */
export function webhookPayload(request: ApplyRequest): { id: string; body: string } {
  const body = {
    type: 'agent.entitlements.changed',
    data: {
      agentId: request.agentId,
      agentName: request.agentName,
      version: request.version,
      sponsor: { id: request.sponsorId },
      effective: request.effective.map((entitlement) => ({
        toolId: entitlement.toolId,
        system: entitlement.system,
        risk: entitlement.risk,
        provenance: entitlement.provenance,
      })),
      granted: request.granted,
      revoked: request.revoked,
      reason: request.reason,
      changeEventId: request.changeEventId,
      ...(request.repairId === undefined ? {} : { repair: true }),
    },
  };
  // Stable per (agent, version) across retries and across Tether processes: receivers dedupe on it.
  // A drift repair re-sends a version under its own id, so receivers that dedupe do not drop it.
  const suffix = request.repairId === undefined ? '' : `_r${request.repairId}`;
  return { id: `msg_${request.agentId}_v${request.version}${suffix}`, body: JSON.stringify(body) };
}

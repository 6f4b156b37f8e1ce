// A plan that cannot be made from these facts (no package manager, no systemd): the engine turns
// it into a failed task on that host, with the reason.
export class PlanError extends Error {
  override name = 'PlanError';
}

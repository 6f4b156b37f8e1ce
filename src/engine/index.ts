// The engine's public surface for roles and `haup deploy`.
export { runDeploy, selectHosts, type DeployOptions } from './runner.ts';
export { composeHost, type RoleContribution, type HostBase } from './compose.ts';
export { recap, toJson, taskLine, countsText, exitCodeFor } from './recap.ts';
export { newDeployId, DEPLOY_ID_RE } from './deploy-id.ts';
export { defaultJournalDir, parseJournal, REMOTE_JOURNAL_ROOT, type JournalRecord, type PreImage } from './journal.ts';
export type { DeployResult, HandlerSpec, HostResult, HostSpec, PhaseSpec, TaskResult, TaskSpec, TreeCheck } from './types.ts';
export type { OperationSpec, FileSpec, AbsentSpec, PackageSpec, ServiceSpec, DirectorySpec, CommandSpec } from '../operations/types.ts';

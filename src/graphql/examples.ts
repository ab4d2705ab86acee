/** GraphiQL's first tab: the restore story, one operation per step. */
export const exampleOperations = `# Welcome to BizTalk Backup.
#
# 1. Open "Headers" below and paste:  {"Authorization": "Bearer <your token>"}
#    (npm start prints an admin token at first start; npm run demo prints one too).
# 2. Run the operations in order with the play button; paste the ids they return into "Variables".
#    The Docs panel (top left) explains every type and field.
# 3. To watch a restore live (every event, with a bar per category), open the console at /.

# What services are there, and when were they last backed up?
query ListServices {
  services(first: 20) {
    totalCount
    edges { node { id name edition region state lastBackup { id label completedAt } } }
  }
}

# Backups, including those of deleted services (they stay restorable).
query ListBackups {
  backups(first: 20) {
    edges { node { id serviceName edition status kind label createdAt itemCounts { category count } excluded warnings } }
  }
}

# Plan a restore: nothing changes yet; read the checks (BLOCKER, WARNING, INFO) and what to do.
# Variables: {"backupId": "<a backup id>"}
mutation PlanRestore($backupId: ID!) {
  createRestorePlan(input: { backupId: $backupId, targetName: "contoso-restored" }) {
    __typename
    ... on CreateRestorePlanSuccess { plan { id state targetName targetEdition checks { severity code message } } }
    ... on Error { code message }
  }
}

# Watch the restore live: run this first (it streams), then ExecuteRestore in another tab.
# Variables: {"planId": "<the plan id>"}
subscription WatchRestore($planId: ID!) {
  restoreProgress(planId: $planId) { sequence previousState state message progress { category done total } at }
}

# Execute the plan: the service is created RESTORING, filled category by category, then SUSPENDED.
mutation ExecuteRestore($planId: ID!) {
  executeRestorePlan(input: { planId: $planId }) {
    __typename
    ... on ExecuteRestorePlanSuccess { plan { id state service { id name state } } }
    ... on PlanBlockedError { blockers { code message } }
    ... on Error { code message }
  }
}

# The post-restore checklist, then resume the service to ACTIVE.
# Variables: {"serviceId": "<the restored service id>"}
query Checklist($serviceId: ID!) {
  node(id: $serviceId) { ... on Service { name state postRestoreChecklist { kind status message } } }
}

mutation Resume($serviceId: ID!) {
  resumeService(input: { serviceId: $serviceId }) {
    __typename
    ... on ResumeServiceSuccess { service { name state } }
    ... on ChecklistIncompleteError { openItems { kind message } }
    ... on Error { code message }
  }
}
`;

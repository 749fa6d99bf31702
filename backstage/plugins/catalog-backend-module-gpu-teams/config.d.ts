export interface Config {
  gpuPlatform?: {
    /**
     * The platform's teams, as the stack's `teams` (the platform writes them): one catalog Group each.
     */
    teams?: Array<{
      /** The team's name: its namespace, its Argo CD project and its budget in the cost tracker. */
      name: string;
      costCenter?: string;
      monthlyBudgetUsd?: number;
      /** Users who may spend the team's budget (`ada` or `user:default/ada`). */
      members?: string[];
    }>;
  };
}

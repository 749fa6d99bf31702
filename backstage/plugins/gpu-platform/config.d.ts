export interface Config {
  gpuPlatform?: {
    costTracker?: {
      /**
       * The cost tracker's dashboard, linked from the budget card.
       * @visibility frontend
       */
      dashboardUrl?: string;
    };
  };
}

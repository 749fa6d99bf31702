export interface Config {
  /** The GPU platform's settings for its portal plugins. */
  gpuPlatform?: {
    costTracker: {
      /** The cost tracker's base URL inside the network, e.g. http://cost-tracker.internal. */
      baseUrl: string;
      /**
       * Backstage's own credential for the cost tracker's writes (the `portal` scope). Read from the
       * environment (`${COST_TRACKER_PORTAL_TOKEN}`); only the scaffolder actions send it.
       * @visibility secret
       */
      token: string;
    };
  };
}

export interface Config {
  gpuPlatform?: {
    signIn?: {
      /**
       * The sign-in provider the app offers: github (default) or oidc; guest only in the test
       * config (app-config.test.yaml). The backend's side is auth.providers.<id>.
       * @visibility frontend
       */
      provider?: 'github' | 'oidc' | 'guest';
    };
  };
}

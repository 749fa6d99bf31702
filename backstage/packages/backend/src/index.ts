/**
 * The GPU platform's Backstage backend (the new backend system of Backstage 1.55): the catalog
 * with the platform's teams as Groups, the scaffolder with the GitHub module and the
 * gpu-platform:request-gpus / release-gpus actions, sign-in (GitHub or OIDC by configuration;
 * the guest provider answers only when the test config enables it), the proxy for Argo CD and the
 * cost tracker's reads, and the app's static files.
 */
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

// Sign-in: a provider answers only when auth.providers.<id> is configured.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-github-provider'));
backend.add(import('@backstage/plugin-auth-backend-module-oidc-provider'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
backend.add(import('@internal/plugin-catalog-backend-module-gpu-teams'));

// Who may do what in the catalog and the scaffolder; spending a team's GPU budget is checked by
// the gpu-platform actions themselves (membership from the catalog) and by the cost tracker.
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);

backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@backstage/plugin-scaffolder-backend-module-github'));
backend.add(import('@internal/plugin-scaffolder-backend-module-gpu-platform'));

backend.start();
